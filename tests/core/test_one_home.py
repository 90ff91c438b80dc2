"""One rule, one place: lint tests over Vigil's own code (they read the source; nothing runs)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("governance", "models_registry", "risk", "vigil")


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _explained(lines: list[str], lineno: int) -> bool:
    """An import inside a function says why: a comment on its line, or on the line above its group of imports."""
    if "#" in lines[lineno - 1]:
        return True
    above = lineno - 2
    while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def test_imports_between_vigils_packages_sit_at_the_top_of_the_module_or_say_why_not():
    """An import inside a function hides a dependency (and an import circle) from readers and from the
    import-linter contract; the few that must be lazy (heavy libraries only some processes load, app
    registration in AppConfig.ready) say why in a comment."""
    unexplained = []
    for path in _modules():
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name == "ready":
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    module = inner.module or ""
                elif isinstance(inner, ast.Import):
                    module = inner.names[0].name
                else:
                    continue
                if module.split(".")[0] in PACKAGES and not _explained(lines, inner.lineno):
                    unexplained.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {lines[inner.lineno - 1].strip()}")
    assert not sorted(set(unexplained)), "\n".join(sorted(set(unexplained)))


def test_every_monitoring_measure_has_its_reader_and_every_reader_its_measure():
    """The measures a monitor may watch (measures.MEASURES: labels, units, directions) and the evaluation's
    dispatch table (evaluation.READERS) name the same codes: a measure added to one and not the other would be
    offered on the page and fail every cycle, or be evaluated and never offered."""
    from risk.monitoring.evaluation import READERS  # SciPy: imported by the test, never by a web process
    from risk.monitoring.measures import MEASURES

    assert set(MEASURES) == set(READERS), set(MEASURES) ^ set(READERS)


def test_the_model_key_and_version_patterns_have_one_home_in_the_models_layer():
    """The key and version patterns are defined once, in models_registry/validators.py, beside the field
    validators built from them; URL modules import them from there, never from a views module."""
    home = "models_registry.validators"
    names = {"MODEL_KEY_REGEX", "VERSION_REGEX"}
    misplaced = []
    for path in _modules():
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and names & {a.name for a in node.names} and node.module != home:
                misplaced.append(f"{where}:{node.lineno}: imported from {node.module}")
            if isinstance(node, ast.Assign) and str(where) != "models_registry/validators.py":
                defined = {t.id for t in node.targets if isinstance(t, ast.Name)} & names
                misplaced += [f"{where}:{node.lineno}: defines {name}" for name in sorted(defined)]
    assert not misplaced, "\n".join(misplaced)

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

"""One rule, one place: lint tests over Vigil's own code (they read the source; nothing runs)."""

import ast
import functools
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("governance", "models_registry", "risk", "vigil")


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


@functools.cache
def _parsed() -> tuple:
    """(path, source, tree) of each module, parsed once for all the tests here."""
    return tuple((path, source, ast.parse(source)) for path in _modules() for source in [path.read_text()])


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
    for path, source, tree in _parsed():
        lines = source.splitlines()
        for node in ast.walk(tree):
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
    for path, _source, tree in _parsed():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and names & {a.name for a in node.names} and node.module != home:
                misplaced.append(f"{where}:{node.lineno}: imported from {node.module}")
            if isinstance(node, ast.Assign) and str(where) != "models_registry/validators.py":
                defined = {t.id for t in node.targets if isinstance(t, ast.Name)} & names
                misplaced += [f"{where}:{node.lineno}: defines {name}" for name in sorted(defined)]
    assert not misplaced, "\n".join(misplaced)


# Modules that read a person's roles outside an access.py, each for a reason that keeps it there.
ROLE_READERS = {
    "governance/core/access_window.py": "part of governance.core.access, below it (access.is_active asks `refusal`): "
    "its rules, only auditors have a window and compliance sets it, are written once, there",
    "governance/core/second_factor.py": "the policy in force names the roles that sign with a second factor; it "
    "reads the signer's roles to apply that policy, it decides no permission",
}


def _role_checks(tree) -> list[int]:
    """Lines that ask which roles someone holds: has_role()/user_roles() calls, `Role.X in ...` tests, and
    `{Role.X, ...} & roles` intersections."""

    def is_role(node):
        return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role"

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in ("has_role", "user_roles"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if is_role(node.left):
                lines.append(node.lineno)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
            if any(isinstance(side, ast.Set) and any(map(is_role, side.elts)) for side in (node.left, node.right)):
                lines.append(node.lineno)
    return sorted(set(lines))


def test_who_may_do_what_by_role_is_decided_in_the_apps_access_modules_only():
    """A role check written in a service, a view or a selector is a permission rule with no name and no home:
    the next change to who may do it misses the copies. Each rule is a named function in its app's access.py
    (roles.py answers which roles a person holds); the few modules in ROLE_READERS say why they read roles."""
    stray = []
    for path, source, tree in _parsed():
        where = str(path.relative_to(ROOT))
        if path.name in ("access.py", "roles.py") or where in ROLE_READERS:
            continue
        lines = source.splitlines()
        stray += [f"{where}:{n}: {lines[n - 1].strip()}" for n in _role_checks(tree)]
    assert not stray, "\n".join(stray)


def test_each_module_allowed_to_read_roles_still_does():
    """An allowance that is no longer needed is taken out, so the list stays the list of real exceptions."""
    trees = {str(path.relative_to(ROOT)): tree for path, _source, tree in _parsed()}
    unused = [where for where in ROLE_READERS if not _role_checks(trees[where])]
    assert not unused, unused

"""Every third-party package Vigil's own code imports is installed by requirements.txt (itself or as a dependency
of what it lists): the test environment also has the development tools, whose dependencies can hide a missing
line until `make run` fails on a fresh clone (cryptography, once, came only with moto)."""

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ["governance", "models_registry", "risk", "vigil", "vigil_client"]
OWN = {"governance", "models_registry", "risk", "vigil", "vigil_client", "tests", "bench"}
# Scripts a developer runs by hand with requirements-dev.txt installed, never imported by a running Vigil: the ONNX
# model the demo ships is rebuilt by this one (skl2onnx is a development requirement, as issue 23 asks).
DEVELOPMENT_SCRIPTS = {"governance/demo/build_onnx_model.py"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _installed_by_requirements() -> set[str]:
    """requirements.txt's distributions and, transitively, everything they require (extras they name included)."""
    wanted = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            extras = re.search(r"\[([^\]]+)\]", line)
            wanted.append((_name(line), set(extras[1].split(",")) if extras else set()))
    seen: set[str] = set()
    while wanted:
        name, extras = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # excluded by its marker here (e.g. only for older Pythons)
            continue
        for requirement in requires:
            marker = requirement.split(";", 1)[1] if ";" in requirement else ""
            needed_extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)", marker)
            if needed_extra and needed_extra[1] not in extras:
                continue
            wanted.append((_name(requirement), set()))
    return seen


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.relative_to(ROOT).as_posix() in DEVELOPMENT_SCRIPTS:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules - OWN - set(sys.stdlib_module_names)


def test_every_package_the_code_imports_is_installed_by_requirements_txt():
    installed = _installed_by_requirements()
    distributions = metadata.packages_distributions()
    imported = _imported_top_level_modules()
    assert "django" in imported and "rest_framework" in imported  # the scan did read the code
    missing = {
        module: distributions.get(module, ["(not installed at all)"])
        for module in sorted(imported)
        if not {_name(d) for d in distributions.get(module, [])} & installed
    }
    assert missing == {}, f"imported by Vigil but not installed by requirements.txt: {missing}"


def test_the_development_scripts_exist_and_are_imported_by_nothing_vigil_runs():
    """The exemption above stays honest: each script is there, and no module of the apps imports it."""
    for script in DEVELOPMENT_SCRIPTS:
        assert (ROOT / script).is_file(), script
        dotted = script.removesuffix(".py").replace("/", ".")
        package, _, leaf = dotted.rpartition(".")
        importers = []
        for app in APP_PACKAGES:
            for path in (ROOT / app).rglob("*.py"):
                for node in ast.walk(ast.parse(path.read_text(), str(path))):
                    named = (isinstance(node, ast.Import) and any(a.name == dotted for a in node.names)) or (
                        isinstance(node, ast.ImportFrom)
                        and (node.module == dotted or (node.module == package and leaf in {a.name for a in node.names}))
                    )
                    if named:
                        importers.append(str(path.relative_to(ROOT)))
        assert importers == [], f"{script} is imported by {importers}"

"""A web worker, an export or a scheduler loads none of the heavy numeric libraries: SciPy, matplotlib, pyarrow
and WeasyPrint (about 150 MB together) are imported by the code that runs a validation, evaluates a monitor,
reads an upload or renders a PDF, when it runs. Every process of a deployment pays for what it loads at start.

onnx and onnxruntime go further: they run a developer's model, so only the validation computation imports them,
inside the confined child process that runs it (risk/validation/model_runtime.py), never at a module's top."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["scipy", "matplotlib", "pyarrow", "weasyprint", "pandas", "onnx", "onnxruntime", "sklearn", "skl2onnx"]
PROBE = """
import json, sys, django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every app's URLs and views, as a web worker's first request loads them
import vigil.wsgi, vigil.celery
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""
# Where a model may be loaded: the validation computation (inside its functions), and the demo's build script.
MODEL_RUNNERS = {"risk/validation/model_runtime.py": "inside functions", "governance/demo/build_onnx_model.py": "any"}
PACKAGES = ("vigil", "governance", "models_registry", "risk")


def test_starting_vigil_loads_no_heavy_numeric_library():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vigil.settings", "PYTHONPATH": str(ROOT)}
    env.setdefault("DJANGO_SECRET_KEY", "footprint-probe")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "django" in loaded and "risk" in loaded  # the probe did start Vigil
    assert [name for name in HEAVY if name in loaded] == []


def _model_imports(tree) -> list[tuple[int, bool]]:
    """(line, at the module's top) of each import of onnx or onnxruntime in a module."""
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        if any(name.split(".")[0] in ("onnx", "onnxruntime") for name in names):
            found.append((node.lineno, id(node) in top))
    return found


def test_only_the_validation_computation_imports_onnx_and_inside_its_functions():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for line, at_top in _model_imports(ast.parse(path.read_text(), relative)):
                allowed = MODEL_RUNNERS.get(relative)
                if allowed is None or (allowed == "inside functions" and at_top):
                    offenders.append(f"{relative}:{line}")
    assert offenders == []
    assert _model_imports(ast.parse((ROOT / "risk/validation/model_runtime.py").read_text()))  # the scan sees them

"""A web worker, an export or a scheduler loads none of the heavy numeric libraries: SciPy, matplotlib, pyarrow
and WeasyPrint (about 150 MB together) are imported by the code that runs a validation, evaluates a monitor,
reads an upload or renders a PDF, when it runs. Every process of a deployment pays for what it loads at start."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["scipy", "matplotlib", "pyarrow", "weasyprint", "pandas"]
PROBE = """
import json, sys, django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every app's URLs and views, as a web worker's first request loads them
import vigil.wsgi, vigil.celery
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_starting_vigil_loads_no_heavy_numeric_library():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vigil.settings", "PYTHONPATH": str(ROOT)}
    env.setdefault("DJANGO_SECRET_KEY", "footprint-probe")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "django" in loaded and "risk" in loaded  # the probe did start Vigil
    assert [name for name in HEAVY if name in loaded] == []

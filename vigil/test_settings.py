"""Settings for the test suite: the real settings, with test-only conveniences switched on."""

import os

os.environ.setdefault("VIGIL_TESTING", "1")
os.environ.setdefault("VIGIL_FAST_PASSWORD_HASHER", "1")

from vigil.settings import *  # noqa: E402,F403

# Tests that need a real worker start one against Redis; everything else runs tasks in-process. The real
# workers and beat those tests start set VIGIL_TEST_EAGER=0: what they enqueue goes through the broker.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("VIGIL_TEST_EAGER", "1") == "1"

# Under pytest-xdist each worker process ("gw0", "gw1", ...) gets its own test database (pytest-django adds the
# suffix), its own media folder and its own Redis database for the real-worker tests, so workers never see each
# other's files, queues or results.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_worker_index = int(XDIST_WORKER[2:]) if XDIST_WORKER.startswith("gw") else 0
if XDIST_WORKER and not os.environ.get("VIGIL_TEST_REDIS_PER_WORKER"):  # once: workers a test spawns inherit it
    os.environ["VIGIL_TEST_REDIS_PER_WORKER"] = "1"
    _redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    _base, _, _db = _redis.rpartition("/")
    os.environ["REDIS_URL"] = f"{_base}/{(int(_db or 15) - _worker_index) % 16}"

MEDIA_ROOT = VAR_DIR / f"test-media{'-' + XDIST_WORKER if XDIST_WORKER else ''}"  # noqa: F405
STATIC_ROOT = VAR_DIR / "test-staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

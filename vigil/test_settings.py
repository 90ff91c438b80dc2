"""Settings for the test suite: the real settings, with test-only conveniences switched on."""

import os

os.environ.setdefault("VIGIL_TESTING", "1")
os.environ.setdefault("VIGIL_FAST_PASSWORD_HASHER", "1")

from vigil.settings import *  # noqa: E402,F403

# Tests that need a real worker start one against Redis; everything else runs tasks in-process. The real
# workers and beat those tests start set VIGIL_TEST_EAGER=0: what they enqueue goes through the broker.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("VIGIL_TEST_EAGER", "1") == "1"
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
STATIC_ROOT = VAR_DIR / "test-staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

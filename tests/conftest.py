import os

import pytest
from rest_framework.test import APIClient

from tests.base import world  # noqa: F401  (fixture)


@pytest.fixture
def api():
    """An API client; `api.as_user(u)` authenticates with a token of u's (one per user and test, issued as the token
    endpoint issues them: a person's expires), as trading systems do."""
    from tests.factories import token_for

    client = APIClient()
    tokens = {}

    def as_user(user):
        if user.pk not in tokens:
            tokens[user.pk] = token_for(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[user.pk]}")
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def browser_client(client):
    """Django's test client logged in through the session, as a person in a browser."""

    def as_user(user):
        client.force_login(user)
        return client

    client.as_user = as_user
    return client


DEMO_PASSWORD = "demo-password-123"


@pytest.fixture
def demo_firm(request, settings, tmp_path):
    """The firm `make run` seeds (`seed_demo` with a known password): seeded once per session and restored for
    every later test (tests/snapshots.py), since seeding walks 25 models through the signed lifecycle."""
    from django.core.management import call_command

    from tests.snapshots import snapshot

    settings.VAR_DIR = tmp_path  # the logins file and anything else seeding writes stay in the test's folder
    snapshot("demo-firm", lambda: call_command("seed_demo", password=DEMO_PASSWORD), request)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database is rolled back between tests, and a cached entry from
    an earlier test (a queue badge, a gate decision) must not answer for rows that no longer exist."""
    from django.core.cache import cache

    cache.clear()
    yield


# --- Long tests first ---------------------------------------------------------------------------------
# pytest-xdist hands tests out in collection order. The long ones (browser, schema, real workers, marked slow) are
# moved to the front, so at the end short tests fill the gaps instead of one process finishing a long test alone
# while the others idle. This runs before pytest-django's own (stable) ordering, which then puts every test that
# rolls back before every test that commits, as it must: a transactional test empties the database it leaves.

LONG_KINDS = ("e2e", "schema", "slow")


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not any(item.get_closest_marker(kind) for kind in LONG_KINDS))
    return (yield)


# --- The demo firm's tests in one process ------------------------------------------------------------------------
# Every process that meets a test of the seeded demo firm seeds it (minutes of the signed lifecycle); handed out
# test by test, three processes seeded it three times. So the tests of these files go to one process as one unit,
# and every other test is its own unit, handed out in collection order as --dist load does. By file, not by
# pytest-xdist's xdist_group marker: under pytest 9 its loadgroup mode no longer renames the tests it groups, and
# groups nothing.
DEMO_FIRM_FILES = ("tests/models_registry/test_seed_demo.py", "tests/risk/test_demo_monitoring.py")


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "load":
        return None  # another mode asked for by name: xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class DemoFirmTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "demo-firm" if nodeid.split("::", 1)[0] in DEMO_FIRM_FILES else nodeid

    return DemoFirmTogether(config, log)


# --- The slow-test guard ------------------------------------------------------------------------------
# The suite stays fast only if a slow test is a decision: any test whose own run (setup + call) takes over
# SLOW_SECONDS without @pytest.mark.slow(reason=...) is named at the end of the run. It names, it does not
# fail: a loaded machine must not turn timing into a red build (VIGIL_SLOW_GUARD=fail makes it fail, for a
# developer tightening the suite on a quiet machine). A snapshot's first build (tests/snapshots.py) is excused.

SLOW_SECONDS = 1.0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    marker = item.get_closest_marker("slow")
    if marker is not None and not marker.kwargs.get("reason"):
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.slow needs reason='why it is slow'")
    # Browser and schema tests are slow by kind: their markers say so.
    report.marked_slow = any(item.get_closest_marker(m) for m in ("slow", "e2e", "schema"))
    report.built_snapshot = getattr(item, "built_snapshot", False)
    return report


_durations: dict[str, float] = {}
_excused: set[str] = set()


def pytest_runtest_logreport(report):
    if report.when in ("setup", "call") and not getattr(report, "marked_slow", True):
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration
        if getattr(report, "built_snapshot", False):
            _excused.add(report.nodeid)


def _slow_tests() -> list[tuple[float, str]]:
    return sorted(((d, n) for n, d in _durations.items() if d > SLOW_SECONDS and n not in _excused), reverse=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    slow = _slow_tests()
    if not slow:
        return
    terminalreporter.section(f"tests over {SLOW_SECONDS:.0f} s not marked slow ({len(slow)})")
    for duration, nodeid in slow:
        terminalreporter.write_line(f"{duration:6.2f}s {nodeid}")
    if os.environ.get("VIGIL_SLOW_GUARD") == "fail":
        terminalreporter.write_line("VIGIL_SLOW_GUARD=fail: mark them slow with a reason, or make them faster")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("VIGIL_SLOW_GUARD") == "fail" and exitstatus == 0 and _slow_tests():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

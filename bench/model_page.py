"""Server time of the model and version pages on seeded demo data, per section, cold and warm.

Renders each demo model page and each of its versions' pages with Django's test client, in this process (no
HTTP server, no browser): cold is the first render of that page in the process (templates compiled, modules
imported on first use), warm the median of the later renders. Also counts the queries of each render.
Prints one line per page and section and a summary; asserts nothing. Target (issue 21): warm under 300 ms.

    manage.py seed_demo first (on the database DATABASE_URL names), then
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil_x .venv/bin/python bench/model_page.py [--user compliance]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ.setdefault("VIGIL_TESTING", "1")  # DEBUG stays off; static files need no collectstatic manifest


def sections_of(page: str) -> list:
    """The sections a page is split into, [None] for a page that is one whole (before issue 21)."""
    from governance.core import panels

    sections = getattr(panels, "sections_for", None)
    return [s.key for s in sections(page)] if sections else [None]


def timed(client, url) -> tuple[float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the log keeps 9,000 queries: past that, a count taken from its length stays at zero
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url, secure=True)  # production settings redirect plain HTTP
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", default="compliance")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="", help="comma-separated model keys (default: every demo model)")
    args = parser.parse_args()

    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)  # the login and request lines would drown the figures
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from governance.core import panels
    from models_registry.models import Model, ModelVersion

    client = Client()
    client.force_login(get_user_model().objects.get(username=args.user))
    keys = [k for k in args.models.split(",") if k] or list(Model.objects.order_by("key").values_list("key", flat=True))
    pages = []
    for key in keys:
        pages.append(("model", key, reverse("models_registry:model-detail", kwargs={"key": key})))
        for version in ModelVersion.objects.filter(model__key=key).order_by("pk").values_list("version", flat=True):
            url = reverse("models_registry:version-detail", kwargs={"key": key, "version": version})
            pages.append(("version", f"{key}@{version}", url))

    rows = []
    for kind, label, url in pages:
        page = panels.MODEL_PAGE if kind == "model" else panels.VERSION_PAGE
        for section in sections_of(page):
            section_url = f"{url}?section={section}" if section else url
            cold, _ = timed(client, section_url)
            runs = [timed(client, section_url) for _ in range(args.repeats)]
            warm, queries = statistics.median(r[0] for r in runs), runs[-1][1]  # warm: one-time caches filled
            rows.append((kind, label, section or "(whole page)", cold, warm, queries))
            name = section or "(whole page)"
            print(f"{kind:7} {label:32} {name:12} cold {cold:7.0f} ms  warm {warm:7.0f} ms  {queries:4} queries")

    print()
    for kind in ("model", "version"):
        mine = [r for r in rows if r[0] == kind]
        if not mine:
            continue
        warm = [r[4] for r in mine]
        worst = max(mine, key=lambda r: r[4])
        print(
            f"{kind} pages as {args.user}: {len(mine)} renders; warm median {statistics.median(warm):.0f} ms, "
            f"max {worst[4]:.0f} ms ({worst[1]} {worst[2]}); first cold render {mine[0][3]:.0f} ms; "
            f"queries max {max(r[5] for r in mine)}"
        )


if __name__ == "__main__":
    main()

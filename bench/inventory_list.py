"""Inventory list latency: a permission-filtered page against the unfiltered page, same run, same data.

50,000 models; a developer holds object grants on 5,000 of them. Measures p50 and p95 of the first API
page (/api/v1/models/) and the first HTML page (/models/) for that developer and for a superuser (no
permission filter). Target: filtered within 1.5x of unfiltered, p95 under 50 ms on PostgreSQL.

Run by hand (never by the test command):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigil_bench .venv/bin/python bench/inventory_list.py
The database is created if missing and filled once; later runs reuse it.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
os.environ.setdefault("VIGIL_TESTING", "1")
os.environ.setdefault("VIGIL_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1")

N_MODELS = int(os.environ.get("BENCH_MODELS", "50000"))
N_GRANTED = int(os.environ.get("BENCH_GRANTED", "5000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "200"))


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def populate():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from governance.core.models import Desk, UserProfile
    from models_registry.models import Model, ModelUserObjectPermission

    User = get_user_model()
    if Model.objects.count() >= N_MODELS:
        return
    print(f"populating {N_MODELS} models ...", flush=True)
    desks = [Desk.objects.get_or_create(code=f"bench-{i}", defaults={"name": f"Bench desk {i}"})[0] for i in range(8)]
    owner, _ = User.objects.get_or_create(username="bench-owner")
    owner.groups.add(Group.objects.get(name="owner"))
    developer, _ = User.objects.get_or_create(username="bench-developer")
    developer.groups.add(Group.objects.get(name="developer"))
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True, "is_staff": True})
    for user in (owner, developer, admin):
        UserProfile.objects.get_or_create(user=user)
    purposes = ["alpha", "execution", "risk", "pricing", "other"]
    statuses = ["draft", "submitted", "in_validation", "approved", "pilot", "production", "retired"]
    batch = []
    for i in range(N_MODELS):
        tier = 1 + i % 3
        batch.append(
            Model(
                key=f"bench-model-{i:06d}",
                name=f"Bench model {i}",
                purpose=purposes[i % 5],
                desk=desks[i % 8],
                model_type="gradient_boosting",
                asset_classes=["equities"],
                owner=owner,
                intended_use="Benchmark.",
                computed_tier=tier,
                risk_tier=tier,
                tier_rule_version="TIER-2026.1",
                status=statuses[i % 7],
                created_by=owner,
            )
        )
        if len(batch) == 5000:
            Model.objects.bulk_create(batch)
            batch = []
    Model.objects.bulk_create(batch)
    ct = ContentType.objects.get_for_model(Model)
    perms = {p.codename: p for p in Permission.objects.filter(content_type=ct)}
    step = max(1, N_MODELS // N_GRANTED)  # spread the grants evenly across the key order
    granted = Model.objects.filter(key__in=[f"bench-model-{i:06d}" for i in range(0, N_MODELS, step)][:N_GRANTED])
    rows = []
    for model in granted.only("pk"):
        for code in ("view_model", "change_model", "add_version_model"):
            rows.append(ModelUserObjectPermission(user=developer, permission=perms[code], content_object=model))
    ModelUserObjectPermission.objects.bulk_create(rows, batch_size=5000)
    Model.developers.through.objects.bulk_create(
        [Model.developers.through(model_id=m.pk, user_id=developer.pk) for m in granted.only("pk")], batch_size=5000
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would after a bulk load


def measure(client, path, repeats):
    client.get(path)  # warm caches and the connection
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main():
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    populate()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from governance.core import access as perms
    from governance.core import api_tokens
    from models_registry.models import Model

    User = get_user_model()
    developer, admin = User.objects.get(username="bench-developer"), User.objects.get(username="bench-admin")
    visible = perms.restrict(Model.objects.all(), developer).count()
    from django.db import connection

    print(f"database: {connection.vendor}; models: {Model.objects.count()}; visible to developer: {visible}")
    print(f"{'page':<24}{'user':<12}{'p50 ms':>9}{'p95 ms':>9}")
    results = {}
    for label, user in (("developer", developer), ("superuser", admin)):
        token = api_tokens.token_issue(user, lifetime=api_tokens.person_lifetime())[1]
        api = Client(HTTP_AUTHORIZATION=f"Token {token}")
        ui = Client()
        ui.force_login(user)
        for page, client, path in (("API /api/v1/models/", api, "/api/v1/models/"), ("HTML /models/", ui, "/models/")):
            p50, p95 = measure(client, path, REPEATS)
            results[(page, label)] = (p50, p95)
            print(f"{page:<24}{label:<12}{p50:>9.1f}{p95:>9.1f}")
    for page in ("API /api/v1/models/", "HTML /models/"):
        ratio = results[(page, "developer")][0] / results[(page, "superuser")][0]
        print(
            f"{page}: filtered/unfiltered p50 ratio {ratio:.2f} (target <= 1.5); "
            f"filtered p95 {results[(page, 'developer')][1]:.1f} ms (target < 50)"
        )


if __name__ == "__main__":
    main()

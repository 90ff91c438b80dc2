"""The model gate under load, on PostgreSQL over real HTTP (gunicorn, DEBUG off). Prints its figures; asserts
nothing.

On a scratch database it creates and drops (vigil_bench_gate), with the test world and DESK_MODELS more models in
production on the trader's desk:
1. GET /api/v1/gate/{key}/ from several client threads: answers per second and latency (median, 99th percentile)
   for a cached decision (200) and for a client that sends its ETag back (304);
2. GET /api/v1/gate/?desk= for the whole desk (a trading system at start-up): latency;
3. a decision computed afresh, in-process (what a request after a change pays once);
4. from the kill switch's commit to the first blocked answer seen by a client polling the gate as fast as it can
   (the gate must answer blocked from the next request), over several engage/release rounds.

Run by hand (never by the test command):
    .venv/bin/python bench/gate.py [--requests N] [--clients C] [--workers W] [--desk-models M]
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import monitoring_ingest as shared  # noqa: E402  (the server and database helpers)

DATABASE = "vigil_bench_gate"
shared.DATABASE = DATABASE  # start_server points gunicorn at it


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hammer(url: str, token: str, n: int, clients: int, headers: dict | None = None) -> tuple[float, list[float], dict]:
    import requests

    per_client = n // clients
    latencies: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()

    def run():
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        session.headers.update(headers or {})
        mine, seen = [], {}
        for _ in range(per_client):
            started = time.perf_counter()
            response = session.get(url)
            mine.append(time.perf_counter() - started)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in seen.items():
                codes[code] = codes.get(code, 0) + count

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(run) for _ in range(clients)]:
            future.result()
    return time.perf_counter() - started, latencies, codes


def report(label: str, seconds: float, latencies: list[float], codes: dict) -> None:
    print(
        f"  {label:<44} {len(latencies) / seconds:>8,.0f} answers/s; latency median "
        f"{statistics.median(latencies) * 1000:6.1f} ms, p99 {percentile(latencies, 0.99) * 1000:6.1f} ms  {codes}"
    )


def kill_switch_rounds(base: str, token: str, world, rounds: int) -> list[float]:
    """Seconds from the engage transaction's commit to the first blocked answer a polling client sees."""
    import requests

    from risk.gate import killswitch
    from tests.factories import PASSWORD

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"{base}/api/v1/gate/mine/"
    delays = []
    for i in range(rounds):
        assert session.get(url).json()["allowed"], "the model should be allowed between rounds"
        engagement = killswitch.kill_switch_engage(
            world.compliance,
            scope="model",
            model=world.mine,
            reason=f"Benchmark round {i}: stop and release.",
            password=PASSWORD,
        )
        committed = time.perf_counter()
        while session.get(url).json()["allowed"]:
            pass
        delays.append(time.perf_counter() - committed)
        killswitch.kill_switch_release(
            world.compliance, engagement, reason=f"Benchmark round {i}: released again.", password=PASSWORD
        )
        while not session.get(url).json()["allowed"]:
            pass
    return delays


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--desk-models", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="vigil-bench-gate-")
    os.environ["DATABASE_URL"] = f"{shared.SERVER}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
    os.environ.update(
        {
            "VIGIL_TESTING": "1",
            "VIGIL_FAST_PASSWORD_HASHER": "1",
            "VIGIL_VAR_DIR": var_dir,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "VIGIL_LOG_LEVEL": "WARNING",
        }
    )
    shared.admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    shared.admin(f'CREATE DATABASE "{DATABASE}"')
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from rest_framework.authtoken.models import Token

        from models_registry.models import Model
        from risk.gate import decisions
        from tests.base import build_world
        from tests.factories import make_model, make_version

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        world = build_world()
        for i in range(args.desk_models):
            model = make_model(
                world.compliance,
                key=f"desk-model-{i:03d}",
                owner=world.owner,
                developers=[world.developer],
                validator=world.validator,
                desk=world.desk,
            )
            make_version(world.developer, model, label="1.0", status="production")
        token = Token.objects.get_or_create(user=world.trader)[0].key
        print(
            f"scratch database {DATABASE}: the test world and {args.desk_models} more production models on the "
            f"desk, set up in {time.perf_counter() - started:.1f} s; {shared.load()}"
        )

        port = shared.free_port()
        server = shared.start_server(port, args.workers, var_dir)
        base = f"http://127.0.0.1:{port}"
        shared.wait_up(f"{base}/health/", server)
        url = f"{base}/api/v1/gate/mine/"

        shared.section(
            f"1. GET /api/v1/gate/mine/, {args.requests:,} requests from {args.clients} client threads, "
            f"gunicorn {args.workers} sync workers"
        )
        import requests

        first = requests.get(url, headers={"Authorization": f"Token {token}"})
        etag = first.headers["ETag"]
        hammer(url, token, args.clients * 50, args.clients)  # warm every worker's cache
        report("cached decision (200)", *hammer(url, token, args.requests, args.clients))
        report(
            "If-None-Match with its ETag (304)",
            *hammer(url, token, args.requests, args.clients, {"If-None-Match": etag}),
        )

        shared.section(f"2. GET /api/v1/gate/?desk=sys-eq ({args.desk_models + 1} models the trader sees)")
        desk_url = f"{base}/api/v1/gate/?desk=sys-eq"
        hammer(desk_url, token, args.clients * 10, args.clients)
        report("the whole desk, cached", *hammer(desk_url, token, max(200, args.requests // 20), args.clients))

        shared.section("3. a decision computed afresh, in-process (after a change, once)")
        model = Model.objects.select_related("desk").get(key="mine")
        seconds, _ = shared.median_time(lambda: decisions.compute(model), 50)
        print(f"  decisions.compute: median {seconds * 1000:.1f} ms")

        shared.section(f"4. kill switch engaged -> first blocked answer, {args.rounds} rounds")
        delays = kill_switch_rounds(base, token, world, args.rounds)
        print(
            f"  from the engage commit to the first blocked answer: median {statistics.median(delays) * 1000:.1f} ms, "
            f"worst {max(delays) * 1000:.1f} ms (each round engages, waits, releases)"
        )
    finally:
        if server is not None:
            shared.stop(server)
        from django.db import connections

        connections.close_all()
        shared.admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()

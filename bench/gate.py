"""The model gate under load, on PostgreSQL over real HTTP (gunicorn, DEBUG off). Prints its figures; asserts
nothing.

On a scratch database it creates and drops (vigil_bench_gate), with the test world and DESK_MODELS more models in
production on the trader's desk:
1. GET /api/v1/gate/{key}/ from several client threads: answers per second and latency (median, 99th percentile)
   for a cached decision (200) and for a client that sends its ETag back (304);
2. GET /api/v1/gate/?desk= for the whole desk (a trading system at start-up): latency;
3. in-process, no HTTP: a cached answer through the whole Django stack and through the fast lane (median, p99,
   queries a request), and a decision computed afresh (what a request after a change pays once);
4. from the kill switch's commit to the first blocked answer seen by a client polling the gate as fast as it can
   (the gate must answer blocked from the next request), over several engage/release rounds;
5. latency at a steady offered rate (Debian's `hey -c 50 -q R/50`: 50 connections, each paced, so the rate is
   offered whatever the answers take; a closed loop would measure throughput instead): p50/p95/p99 at 1,000
   requests a second with and without If-None-Match, then the highest rate of a ladder whose p99 stays under
   25 ms and that the server actually kept up with;
6. from a breach being recorded to its webhook arriving, with a Celery worker on Redis (bench/alert_delay.py).

Run by hand (never by the test command), with PostgreSQL and Redis up and `apt-get install hey`:
    .venv/bin/python bench/gate.py [--requests N] [--clients C] [--workers W] [--threads T] [--desk-models M]
        [--rates ...]
(--threads T > 1 runs gunicorn's gthread workers, T threads each, instead of sync workers.)
"""

import argparse
import os
import statistics
import subprocess
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


def in_process(token: str, n: int) -> tuple[list[float], int]:
    """Seconds of each of n cached answers through Django's test client (every middleware, DRF, no socket), and
    the queries one of them runs."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    for _ in range(50):
        assert client.get("/api/v1/gate/mine/").status_code == 200
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        client.get("/api/v1/gate/mine/")
    seconds = []
    for _ in range(n):
        started = time.perf_counter()
        client.get("/api/v1/gate/mine/")
        seconds.append(time.perf_counter() - started)
    return seconds, len(queries)


def in_process_lane(token: str, n: int) -> tuple[list[float], int]:
    """The same through vigil.wsgi.application (the fast lane in front of Django), as a WSGI server calls it."""
    import io

    from django.db import connection

    from vigil.wsgi import application

    def call():
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v1/gate/mine/",
            "QUERY_STRING": "",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }
        response = application(environ, lambda status, headers, exc_info=None: None)
        b"".join(response)
        getattr(response, "close", lambda: None)()

    for _ in range(50):
        call()
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        call()
    seconds = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds, len(queries)


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


def hey(url: str, token: str, rate: int, seconds: int, connections: int, etag: str = "") -> dict:
    """One steady run of `hey` at `rate` requests a second: achieved rate, p50/p95/p99 (ms) and status codes."""
    import re
    import shutil

    if shutil.which("hey") is None:
        raise SystemExit("`hey` is not installed: apt-get install -y hey")
    per_connection = max(1, round(rate / connections))
    command = ["hey", "-z", f"{seconds}s", "-c", str(connections), "-q", str(per_connection)]
    command += ["-H", f"Authorization: Token {token}"]
    if etag:
        command += ["-H", f"If-None-Match: {etag}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    found = {int(p): float(v) * 1000 for p, v in re.findall(r"(\d+)%% in ([0-9.]+) secs".replace("%%", "%"), out)}
    achieved = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    return {
        "offered": per_connection * connections,
        "achieved": achieved,
        "p50": found.get(50),
        "p95": found.get(95),
        "p99": found.get(99),
        "codes": codes,
    }


def hey_line(label: str, r: dict) -> str:
    return (
        f"  {label:<34} offered {r['offered']:>5}/s achieved {r['achieved']:>7.0f}/s; p50 {r['p50']:6.1f} ms, "
        f"p95 {r['p95']:6.1f} ms, p99 {r['p99']:6.1f} ms  {r['codes']}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="more than 1: gthread workers with this many threads")
    parser.add_argument("--desk-models", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=15, help="length of each steady-rate run")
    parser.add_argument("--rates", default="25,50,100,200,400,1000", help="the ladder of offered rates")
    parser.add_argument("--alert-rounds", type=int, default=100)
    parser.add_argument("--skip", default="", help="sections to skip, e.g. 1,2,3,4")
    parser.add_argument("--profile", type=int, default=0, help="section 3: print the N functions costing most")
    args = parser.parse_args()
    skip = {int(x) for x in args.skip.split(",") if x}

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

        from governance.core import api_tokens
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
        # The gate's real callers are trading systems: a service account scoped to the desk (the kill-switch
        # rounds poll as the trader, a person who sees the same models).
        from models_registry.service_accounts import service_account_create

        _account, token = service_account_create(world.compliance, name="bench trading system", desk=world.desk)
        trader_token = api_tokens.token_issue(world.trader, lifetime=api_tokens.person_lifetime())[1]
        print(
            f"scratch database {DATABASE}: the test world and {args.desk_models} more production models on the "
            f"desk, set up in {time.perf_counter() - started:.1f} s; {shared.load()}"
        )

        port = shared.free_port()
        if args.threads > 1:  # gunicorn reads extra options from the environment start_server passes on
            os.environ["GUNICORN_CMD_ARGS"] = f"--worker-class gthread --threads {args.threads}"
        server = shared.start_server(port, args.workers, var_dir)
        kind = "sync workers" if args.threads <= 1 else f"gthread workers x {args.threads} threads"
        workers = f"{args.workers} {kind}"
        base = f"http://127.0.0.1:{port}"
        shared.wait_up(f"{base}/health/", server)
        url = f"{base}/api/v1/gate/mine/"

        import requests

        first = requests.get(url, headers={"Authorization": f"Token {token}"})
        etag = first.headers["ETag"]
        hammer(url, token, args.clients * 50, args.clients)  # warm every worker's cache

        if 1 not in skip:
            shared.section(
                f"1. GET /api/v1/gate/mine/, {args.requests:,} requests from {args.clients} client threads, "
                f"gunicorn {workers}"
            )
            report("cached decision (200)", *hammer(url, token, args.requests, args.clients))
            report(
                "If-None-Match with its ETag (304)",
                *hammer(url, token, args.requests, args.clients, {"If-None-Match": etag}),
            )

        if 2 not in skip:
            shared.section(f"2. GET /api/v1/gate/?desk=sys-eq ({args.desk_models + 1} models the trader sees)")
            desk_url = f"{base}/api/v1/gate/?desk=sys-eq"
            hammer(desk_url, token, args.clients * 10, args.clients)
            report("the whole desk, cached", *hammer(desk_url, token, max(200, args.requests // 20), args.clients))

        if 3 not in skip:
            shared.section("3. in-process, no HTTP (Django's test client): a cached answer; a decision computed afresh")
            seconds, queries = in_process(token, 2000)
            print(
                f"  cached answer, 2,000 requests: median {statistics.median(seconds) * 1000:.2f} ms, "
                f"p99 {percentile(seconds, 0.99) * 1000:.2f} ms, {queries} queries a request"
            )
            seconds, queries = in_process_lane(token, 2000)
            print(
                f"  the same through the fast lane (vigil.wsgi.application): median "
                f"{statistics.median(seconds) * 1000:.2f} ms, p99 {percentile(seconds, 0.99) * 1000:.2f} ms, "
                f"{queries} queries a request"
            )
            model = Model.objects.select_related("desk").get(key="mine")
            seconds, _ = shared.median_time(lambda: decisions.compute(model), 50)
            print(f"  decisions.compute: median {seconds * 1000:.1f} ms")
            if args.profile:  # where a cached answer's time goes, by function (own time)
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.runcall(in_process, token, 2000)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)

        if 4 not in skip:
            shared.section(f"4. kill switch engaged -> first blocked answer, {args.rounds} rounds")
            delays = kill_switch_rounds(base, trader_token, world, args.rounds)
            print(
                f"  from the engage commit to the first blocked answer: median "
                f"{statistics.median(delays) * 1000:.1f} ms, worst {max(delays) * 1000:.1f} ms "
                "(each round engages, waits, releases)"
            )

        if 5 not in skip:
            shared.section(f"5. steady offered rate, 50 connections (hey), {args.seconds} s a run, gunicorn {workers}")
            # The kill-switch rounds moved the revision: the ETag a client holds is the one it was last given.
            etag = requests.get(url, headers={"Authorization": f"Token {token}"}).headers["ETag"]
            print(hey_line("1,000/s, cached decision (200)", hey(url, token, 1000, args.seconds, 50)))
            print(hey_line("1,000/s, If-None-Match (304)", hey(url, token, 1000, args.seconds, 50, etag)))
            best = None
            for rate in [int(r) for r in args.rates.split(",")]:
                result = hey(url, token, rate, args.seconds, 50)
                print(hey_line(f"ladder {rate}/s (200)", result))
                if result["p99"] < 25 and result["achieved"] >= 0.95 * result["offered"]:
                    best = rate
            print(f"  highest steady rate with p99 under 25 ms: {best or 'none of the ladder'}/s")
            # The floor: the same generator against an empty WSGI app on the same gunicorn settings.
            floor_port = shared.free_port()
            command = [str(Path(sys.executable).parent / "gunicorn"), "empty_wsgi:application"]
            command += ["--chdir", str(ROOT / "bench"), "--workers", str(args.workers)]
            command += ["--bind", f"127.0.0.1:{floor_port}", "--log-level", "warning"]
            if args.threads > 1:
                command += ["--worker-class", "gthread", "--threads", str(args.threads)]
            floor = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            try:
                shared.wait_up(f"http://127.0.0.1:{floor_port}/", floor)
                empty = hey(f"http://127.0.0.1:{floor_port}/", token, 1000, args.seconds, 50)
                print(hey_line("1,000/s, an empty WSGI app (floor)", empty))
            finally:
                shared.stop(floor)

        if 6 not in skip:
            from bench import alert_delay

            shared.section(f"6. breach recorded -> its webhook received, {args.alert_rounds} breaches, one worker")
            waits = alert_delay.breach_to_webhook(
                world, args.alert_rounds, os.environ["DATABASE_URL"], var_dir, concurrency=2
            )
            print(
                f"  median {statistics.median(waits) * 1000:.0f} ms, p95 {percentile(waits, 0.95) * 1000:.0f} ms, "
                f"p99 {percentile(waits, 0.99) * 1000:.0f} ms, worst {max(waits) * 1000:.0f} ms"
            )
    finally:
        if server is not None:
            shared.stop(server)
        from django.db import connections

        connections.close_all()
        shared.admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()

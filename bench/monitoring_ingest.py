"""Monitoring data in and out on PostgreSQL: the HTTP bulk API, the same batches in-process, the series query,
MLflow's tracking server on the same PostgreSQL, the raw COPY ceiling, and the storage layout. Prints its
figures; asserts nothing.

Targets (the issue): at least 100,000 points/s through the HTTP bulk API; a 100,000-point series answered in at
most 0.3 s. Measured elsewhere for comparison: MLflow log_batch 4,700 points/s and 7.3 s for a 100,000-point
get_metric_history; psycopg COPY alone ~215,000 rows/s.

On a scratch database it creates and drops (vigil_bench_monitoring):
1. 1,000,000 points in batches of 10,000 through POST .../monitoring/points/ over real HTTP (gunicorn, DEBUG
   off, several client threads), then the same batches through the service in-process, stage by stage (JSON
   parsing, the row checks, the COPY and commit), to separate HTTP/JSON overhead from storage;
2. 1,000,000 predictions (5 features each) through POST .../monitoring/predictions/;
3. the series query of a 100,000-point metric over HTTP (no step: the service buckets it to 10,000 points
   itself; with a step; a raw 10,000-point window), median of several repetitions, and where its time goes;
4. MLflow's tracking server (its own database, mlflow_bench, as postgresql+psycopg2://...: the SQLAlchemy that
   MLflow 3 brings reads a bare postgresql:// as psycopg 3, which .venv-mlflow lacks): log_batch of 1,000 metrics
   per call from one client for the same 1,000,000 points (only 100,000 when those show that the whole would pass
   --mlflow-budget: it says so) and get_metric_history of a 100,000-point metric, driven by
   bench/_mlflow_side.py under .venv-mlflow's python;
5. raw psycopg COPY of pre-built rows into a scratch table with the points table's series index (the ceiling),
   then with what Django adds to monitoring_metricpoint (an index per foreign key, two deferred FK constraints);
6. the storage layout for prediction-like rows across 500 versions: (a) the composite B-tree (version,
   timestamp), (b) the same plus a BRIN on timestamp, (c) range partitions by month; index sizes, insert
   throughput, a day and a month of one version, an hour of all versions. 1,000,000 rows by default; 10,000,000
   with --storage (it takes a while).

Every section header shows the machine's load average: on a small machine, anything else running (a test suite)
takes its share of every figure.

Run by hand (never by the test command); about twenty minutes without --storage (MLflow takes most of it):
    .venv/bin/python bench/monitoring_ingest.py [--storage] [--points N] [--predictions N] [--workers W]

MLflow lives in its own virtualenv, never in .venv (created once from the project's folder):
    python3.11 -m venv .venv-mlflow && .venv-mlflow/bin/pip install "mlflow>=3,<4" psycopg2-binary
Without it the MLflow comparison is skipped and the script says how to create it.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import shutil
import socket
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

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "vigil_bench_monitoring"
MLFLOW_DATABASE = "mlflow_bench"
MLFLOW_PY = ROOT / ".venv-mlflow" / "bin" / "python"
MLFLOW_VENV_HOWTO = 'python3.11 -m venv .venv-mlflow && .venv-mlflow/bin/pip install "mlflow>=3,<4" psycopg2-binary'
SECRET = "bench-only-secret-key-not-for-production-use-0123456789abcdef"
SERIES_POINTS = 100_000
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
START = NOW - dt.timedelta(days=3)  # every reported time is in the past, as the API requires


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server meant to answer at {url} stopped (exit code {process.returncode})")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"nothing answered at {url}")


def stamp(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def load() -> str:
    """The machine's 1-minute load average: other work on these few cores shows in every figure."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def section(title: str) -> None:
    print(f"\n{title}  [{load()}]", flush=True)


def rate(n: float, seconds: float) -> str:
    return f"{n / seconds:>12,.0f}/s"


def median_time(fn, repeats: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


# ---------------------------------------------------------------------------------------------------- bodies


def point_bodies(n: int, batch: int, metrics: list[str]) -> list[bytes]:
    """JSON bodies of `batch` points: each batch holds len(metrics) metrics at batch/len(metrics) consecutive
    seconds, so each metric gets n/len(metrics) points over the whole run."""
    per_metric = batch // len(metrics)
    bodies = []
    for b in range(n // batch):
        points = []
        for metric in metrics:
            for s in range(b * per_metric, (b + 1) * per_metric):
                moment = START + dt.timedelta(seconds=s)
                points.append({"metric": metric, "timestamp": stamp(moment), "value": 0.5 + (s % 997) / 1e4})
        bodies.append(json.dumps({"points": points}).encode())
    return bodies


def prediction_bodies(n: int, batch: int) -> list[bytes]:
    bodies = []
    for b in range(n // batch):
        rows = []
        for i in range(b * batch, (b + 1) * batch):
            moment = START + dt.timedelta(milliseconds=200 * i)
            features = {f"f{k}": round(((i * (k + 3)) % 1009) / 101.0, 4) for k in range(1, 6)}
            score = (i % 100) / 100
            rows.append({"id": f"p-{i}", "timestamp": stamp(moment), "features": features, "prediction": i % 2})
            rows[-1]["score"] = score
        bodies.append(json.dumps({"predictions": rows}).encode())
    return bodies


# ---------------------------------------------------------------------------------------------------- HTTP


def post_all(url: str, token: str, bodies: list[bytes], clients: int) -> tuple[float, list[float]]:
    """POST every body from `clients` threads; the wall time and each request's latency."""
    import requests

    local = threading.local()
    latencies = []

    def post(body: bytes) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update({"Authorization": f"Token {token}", "Content-Type": "application/json"})
        started = time.perf_counter()
        response = local.session.post(url, data=body, timeout=300)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise SystemExit(f"POST {url} answered {response.status_code}: {response.text[:500]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, bodies))
    return time.perf_counter() - started, latencies


def start_server(port: int, workers: int, var_dir: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("VIGIL_TESTING", "VIGIL_FAST_PASSWORD_HASHER")}
    env |= {
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_SETTINGS_MODULE": "vigil.settings",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "false",
        "VIGIL_VAR_DIR": var_dir,
        "DJANGO_STATIC_ROOT": var_dir,  # no collected files needed: the API serves none
        "VIGIL_LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "vigil.wsgi:application", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    command += ["--timeout", "300", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------------------------------------------- sections


def http_points(base, token, bodies, clients, n_single_batches, single_bodies):
    url = f"{base}/api/v1/models/mine/monitoring/points/"
    wall, latencies = post_all(url, token, bodies, clients)
    points = sum(b.count(b'"metric"') for b in bodies)
    mb = sum(map(len, bodies)) / 1e6
    print(
        f"  HTTP, {clients} client threads:   {points:>9,} points in {wall:6.1f} s = {rate(points, wall)} points "
        f"({len(bodies)} requests of {points // len(bodies):,}, {mb:.0f} MB of JSON; "
        f"median request {statistics.median(latencies) * 1000:.0f} ms)"
    )
    wall1, lat1 = post_all(url, token, single_bodies[:n_single_batches], 1)
    points1 = sum(b.count(b'"metric"') for b in single_bodies[:n_single_batches])
    print(
        f"  HTTP, 1 client:             {points1:>9,} points in {wall1:6.1f} s = {rate(points1, wall1)} points "
        f"(median request {statistics.median(lat1) * 1000:.0f} ms)"
    )
    return points / wall


def in_process_points(bodies, actor, model) -> dict:
    """The same batches without HTTP: JSON parsing, the depth check, the row checks, and the service (which
    runs the checks again, then the COPY and the commit), each timed over every batch."""
    from rest_framework.exceptions import ParseError  # noqa: F401  (the parser's import, loaded outside the timing)

    from governance.core.api.parsers import SafeJSONParser, depth
    from risk.monitoring import inputs, services

    parser, t = SafeJSONParser(), dict.fromkeys(("loads", "depth", "parse", "clean", "service"), 0.0)
    n = 0
    for body in bodies:
        started = time.perf_counter()
        data = json.loads(body)
        t["loads"] += time.perf_counter() - started
        started = time.perf_counter()
        depth(data)
        t["depth"] += time.perf_counter() - started
        started = time.perf_counter()
        data = parser.parse(io.BytesIO(body), "application/json", {})
        t["parse"] += time.perf_counter() - started
        started = time.perf_counter()
        inputs.clean_points(data["points"])
        t["clean"] += time.perf_counter() - started
        started = time.perf_counter()
        services.points_ingest(actor, model, data)
        t["service"] += time.perf_counter() - started
        n += len(data["points"])
    t["n"] = n
    return t


def storage_step(actor, model, n: int, batch: int) -> tuple[float, float]:
    """Rows/s of the storage step alone: bulk_create (before) and insert_rows (COPY), batch by batch, each batch
    in its own transaction as the service does."""
    from django.db import transaction

    from risk.monitoring import bulk
    from risk.monitoring.models import IngestBatch, MetricPoint
    from risk.monitoring.services import monitored_version

    version = monitored_version(model)
    rows = [("sharpe", START + dt.timedelta(seconds=s), 1.0 + s / 1e6) for s in range(batch)]
    timings = {}
    for how in ("bulk_create", "copy"):
        total = 0.0
        for _ in range(n // batch):
            started = time.perf_counter()
            with transaction.atomic():
                kind = IngestBatch.Kind.POINTS
                record = IngestBatch.objects.create(
                    model=model, version=version, kind=kind, rows=batch, received_by=actor
                )
                if how == "copy":
                    fields = ["version_id", "batch_id", "metric", "timestamp", "value"]
                    bulk.insert_rows(MetricPoint, fields, ((version.pk, record.pk, m, t, v) for m, t, v in rows))
                else:
                    MetricPoint.objects.bulk_create(
                        (
                            MetricPoint(version=version, batch=record, metric=m, timestamp=t, value=v)
                            for m, t, v in rows
                        ),
                        batch_size=5000,
                    )
            total += time.perf_counter() - started
        timings[how] = n / total
    return timings["bulk_create"], timings["copy"]


def in_process_predictions(bodies, actor, model) -> dict:
    from governance.core.api.parsers import SafeJSONParser
    from risk.monitoring import inputs, services

    parser, t, n = SafeJSONParser(), dict.fromkeys(("parse", "clean", "service"), 0.0), 0
    for body in bodies:
        started = time.perf_counter()
        data = parser.parse(io.BytesIO(body), "application/json", {})
        t["parse"] += time.perf_counter() - started
        started = time.perf_counter()
        inputs.clean_predictions(data["predictions"])
        t["clean"] += time.perf_counter() - started
        started = time.perf_counter()
        services.predictions_ingest(actor, model, data)
        t["service"] += time.perf_counter() - started
        n += len(data["predictions"])
    t["n"] = n
    return t


def series_section(base, token, metric, repeats):
    import requests

    from models_registry.models import Model
    from risk.monitoring import services

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"{base}/api/v1/models/mine/monitoring/series/"
    window_until = stamp(START + dt.timedelta(seconds=10_000))
    cases = [
        ("no step (the service buckets 100,000 to <= 10,000)", {"metric": metric}),
        ("step=60", {"metric": metric, "step": 60}),
        ("step=3600", {"metric": metric, "step": 3600}),
        ("raw window of 10,000 points (since/until)", {"metric": metric, "since": stamp(START), "until": window_until}),
    ]
    figures = {}
    for label, params in cases:
        session.get(url, params=params)  # warm

        def get(params=params):
            response = session.get(url, params=params)
            assert response.status_code == 200, response.text[:300]
            return response.json()

        seconds, body = median_time(get, repeats)
        figures[label] = seconds
        print(
            f"  HTTP GET series, {label:<52} median {seconds * 1000:7.0f} ms "
            f"({len(body['points']):,} points answered, step {body['step']})"
        )
    version = services.monitored_version(Model.objects.get(key="mine"))
    whole, data = median_time(lambda: services.series(version, metric), repeats)
    extent, _ = median_time(lambda: services._extent(version, metric, None, None), repeats)
    step = data["step"]
    buckets, rows = median_time(lambda: services._bucketed(version, metric, None, None, step), repeats)
    shaped, _ = median_time(lambda: services._shaped(rows), repeats)
    from rest_framework.renderers import JSONRenderer

    render, _ = median_time(lambda: JSONRenderer().render(data), repeats)
    print(
        f"  where a no-step answer's time goes (in-process, median): services.series {whole * 1000:.0f} ms, of which "
        f"the extent (how many points, first and last) {extent * 1000:.0f} ms, PostgreSQL averaging "
        f"{len(rows):,} buckets of {step} s {buckets * 1000:.0f} ms, shaping them {shaped * 1000:.0f} ms; "
        f"DRF renders the JSON in {render * 1000:.0f} ms"
    )
    return figures


def mlflow_section(points: int, budget: float, workers: int, var_dir: str) -> dict | None:
    if not MLFLOW_PY.exists():
        print(f"  skipped: .venv-mlflow does not exist. Create it from {ROOT} with:\n    {MLFLOW_VENV_HOWTO}")
        return None
    admin(f'DROP DATABASE IF EXISTS "{MLFLOW_DATABASE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{MLFLOW_DATABASE}"')
    port = free_port()
    mlflow = MLFLOW_PY.parent / "mlflow"
    command = [
        str(mlflow),
        "server",
        "--backend-store-uri",
        f"postgresql+psycopg2://postgres@127.0.0.1:5432/{MLFLOW_DATABASE}",  # SQLAlchemy 2.1 defaults to psycopg 3
        "--default-artifact-root",
        f"{var_dir}/mlflow-artifacts",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = open(f"{var_dir}/mlflow-server.log", "w")  # noqa: SIM115 (closed below, after the server stops)
    server = subprocess.Popen(command, cwd=var_dir, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_up(f"http://127.0.0.1:{port}/health", server, seconds=180)
        side = [str(MLFLOW_PY), str(ROOT / "bench" / "_mlflow_side.py"), "--uri", f"http://127.0.0.1:{port}"]
        side += ["--points", str(points), "--budget", str(budget)]
        result = subprocess.run(side, capture_output=True, text=True, timeout=budget * 3 + 600)
        if result.returncode != 0:
            print(f"  MLflow side failed:\n{result.stderr[-2000:]}")
            return None
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        stop(server)
        log.close()
        admin(f'DROP DATABASE IF EXISTS "{MLFLOW_DATABASE}" WITH (FORCE)')
    note = ""
    if figures["stopped_early"]:
        note = (
            f" (measured on the first {figures['points_logged']:,} points only: at that rate the "
            f"{figures['points_asked']:,} would take {figures['points_asked'] / figures['points_per_second']:.0f} s, "
            f"over the {budget:.0f} s budget)"
        )
    print(
        f"  MLflow log_batch (1,000 per call, one client, {workers} server workers): "
        f"{figures['points_logged']:,} points in {figures['log_seconds']:.1f} s = "
        f"{figures['points_per_second']:,.0f} points/s{note}"
    )
    print(
        f"  MLflow get_metric_history of {figures['history_points']:,} points: median "
        f"{figures['history_seconds_median']:.2f} s (each: {', '.join(f'{s:.2f}' for s in figures['history_seconds'])})"
    )
    return figures


CEILING_SHAPES = {
    "the series index only": ([], []),
    "+ Django's indexes on the two foreign keys": (["version_id", "batch_id"], []),
    "+ their two deferred FK constraints (monitoring_metricpoint's shape)": (["version_id", "batch_id"], ["both"]),
    "series index + the two FK constraints, no FK indexes": ([], ["both"]),
}


def copy_ceiling(n: int, batch: int, version_id: int, batch_id: int) -> dict:
    """psycopg COPY of pre-built tuples, `batch` rows per COPY and commit as the API writes them: text and binary
    into a table with the points table's series index only (the ceiling), then binary into the same table with
    what Django adds to monitoring_metricpoint (an index per foreign key, two deferred FK constraints checked row
    by row at commit), to show what each costs."""
    import psycopg

    rows = [(version_id, "accuracy", START + dt.timedelta(seconds=s), 0.5 + s / 1e7, batch_id) for s in range(n)]
    columns = "version_id, metric, timestamp, value, batch_id"
    figures = {}
    with psycopg.connect(f"{SERVER}/{DATABASE}") as conn:
        runs = [("text", "the series index only"), *[("binary", shape) for shape in CEILING_SHAPES]]
        for fmt, shape in runs:
            indexes, constraints = CEILING_SHAPES[shape]
            conn.execute("DROP TABLE IF EXISTS bench_copy_ceiling")
            conn.execute(
                "CREATE TABLE bench_copy_ceiling (id bigserial PRIMARY KEY, version_id bigint NOT NULL, "
                "metric varchar(60) NOT NULL, timestamp timestamptz NOT NULL, value double precision NOT NULL, "
                "batch_id bigint NOT NULL)"
            )
            conn.execute("CREATE INDEX ON bench_copy_ceiling (version_id, metric, timestamp)")
            for column in indexes:
                conn.execute(f"CREATE INDEX ON bench_copy_ceiling ({column})")
            if constraints:
                for column, target in (
                    ("version_id", "models_registry_modelversion"),
                    ("batch_id", "monitoring_ingestbatch"),
                ):
                    conn.execute(
                        f"ALTER TABLE bench_copy_ceiling ADD FOREIGN KEY ({column}) REFERENCES {target} (id) "
                        "DEFERRABLE INITIALLY DEFERRED"
                    )
            conn.commit()
            suffix = " (FORMAT BINARY)" if fmt == "binary" else ""
            started = time.perf_counter()
            for first in range(0, n, batch):
                with conn.cursor().copy(f"COPY bench_copy_ceiling ({columns}) FROM STDIN{suffix}") as copy:
                    if fmt == "binary":
                        copy.set_types(["int8", "varchar", "timestamptz", "float8", "int8"])
                    for row in rows[first : first + batch]:
                        copy.write_row(row)
                conn.commit()
            figures[(fmt, shape)] = n / (time.perf_counter() - started)
            print(f"  COPY {fmt:<6} {shape:<70} {figures[(fmt, shape)]:>10,.0f} rows/s")
        conn.execute("DROP TABLE bench_copy_ceiling")
        conn.commit()
    return figures


LAYOUTS = {
    "a": "B-tree (version, timestamp)",
    "b": "B-tree + BRIN (timestamp)",
    "c": "monthly range partitions + B-tree",
}


def storage_section(n: int, versions: int = 500, samples: int = 30) -> dict:
    import psycopg

    year_start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    seconds = 365 * 86400
    columns = (
        "version_id bigint NOT NULL, timestamp timestamptz NOT NULL, features jsonb NOT NULL, "
        "prediction float8 NOT NULL"
    )
    fill = (
        "INSERT INTO {t} (version_id, timestamp, features, prediction) "
        "SELECT mod(g, {v}) + 1, %(start)s::timestamptz + (g * {step}) * interval '1 microsecond', "
        "jsonb_build_object('f1', round(mod(g, 1009) / 101.0, 4), 'f2', mod(g, 7), 'f3', round(random()::numeric, 4), "
        "'f4', mod(g, 13) * 0.5, 'f5', round(mod(g * 7, 1013) / 10.0, 2)), random() "
        "FROM generate_series(0::bigint, %(n)s - 1) AS g"
    )
    step = seconds * 1_000_000 // n  # time-ordered: every version's rows interleaved, as production appends them
    rng = random.Random(7)
    picks = [(rng.randint(1, versions), rng.randint(0, 333)) for _ in range(samples)]
    results = {}
    print(
        f"  {n:,} prediction-like rows (version, timestamp, 5 small features in jsonb, prediction) across {versions} "
        f"versions over 2025, appended in time order; queries: {samples} random versions, median of warm runs"
    )
    header = f"  {'layout':<36}{'fill rows/s':>12}{'COPY rows/s':>12}{'table MB':>10}{'indexes MB':>11}  index sizes"
    print(header)
    for key, label in LAYOUTS.items():
        table = f"bench_storage_{key}"
        with psycopg.connect(f"{SERVER}/{DATABASE}", autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
            if key == "c":
                conn.execute(
                    f"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY, {columns}, "
                    f"PRIMARY KEY (id, timestamp)) PARTITION BY RANGE (timestamp)"
                )
                for month in range(1, 14):
                    low = dt.datetime(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=dt.UTC)
                    high = dt.datetime(2025 + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
                    conn.execute(
                        f"CREATE TABLE {table}_m{month:02d} PARTITION OF {table} "
                        f"FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
                    )
            else:
                conn.execute(
                    f"CREATE TABLE {table} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, {columns})"
                )
            conn.execute(f"CREATE INDEX {table}_series ON {table} (version_id, timestamp)")
            if key == "b":
                conn.execute(f"CREATE INDEX {table}_brin ON {table} USING brin (timestamp)")
            started = time.perf_counter()
            conn.execute(fill.format(t=table, v=versions, step=step), {"start": year_start, "n": n})
            fill_rate = n / (time.perf_counter() - started)
            copied = max(10_000, n // 50)  # then new rows by COPY, as the API writes them (the newest month)
            features = json.dumps({"f1": 1.5, "f2": 2, "f3": 0.25, "f4": 3.0, "f5": 10.5})
            new_start = year_start + dt.timedelta(days=360)
            new_rows = [
                (i % versions + 1, new_start + dt.timedelta(seconds=i * 86400 * 4 / copied), features, 0.5)
                for i in range(copied)
            ]
            cursor = conn.cursor()
            started = time.perf_counter()
            with (
                conn.transaction(),
                cursor.copy(f"COPY {table} (version_id, timestamp, features, prediction) FROM STDIN") as copy,
            ):
                for row in new_rows:
                    copy.write_row(row)
            copy_rate = copied / (time.perf_counter() - started)
            conn.execute(f"VACUUM ANALYZE {table}")
            sizes = conn.execute(
                "WITH t AS (SELECT %s::regclass AS relid UNION SELECT relid FROM pg_partition_tree(%s::regclass)) "
                "SELECT c.relname, c.relkind, pg_relation_size(c.oid) FROM t JOIN pg_class c ON c.oid = t.relid "
                "UNION ALL SELECT i.relname, 'i', pg_relation_size(i.oid) FROM t "
                "JOIN pg_index x ON x.indrelid = t.relid JOIN pg_class i ON i.oid = x.indexrelid",
                [table, table],
            ).fetchall()
            heap = sum(s for _, kind, s in sizes if kind == "r") / 1e6
            by_kind = {"pkey": 0, "series": 0, "brin": 0}
            for name, kind, size in sizes:
                if kind == "i":
                    part = "pkey" if "pkey" in name else "brin" if "brin" in name else "series"
                    by_kind[part] += size
            indexes = sum(by_kind.values()) / 1e6
            detail = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in by_kind.items() if v)
            print(f"  ({key}) {label:<32}{fill_rate:>12,.0f}{copy_rate:>12,.0f}{heap:>10.0f}{indexes:>11.1f}  {detail}")
            queries = {
                "one version, a day": (
                    f"SELECT timestamp, prediction, features FROM {table} WHERE version_id = %s "
                    f"AND timestamp >= %s AND timestamp < %s ORDER BY timestamp",
                    lambda v, d: [v, year_start + dt.timedelta(days=d), year_start + dt.timedelta(days=d + 1)],
                ),
                "one version, a month": (
                    f"SELECT timestamp, prediction, features FROM {table} WHERE version_id = %s "
                    f"AND timestamp >= %s AND timestamp < %s ORDER BY timestamp",
                    lambda v, d: [v, _month(year_start, d), _month(year_start, d, 1)],
                ),
                "all versions, an hour": (
                    f"SELECT count(*), avg(prediction) FROM {table} WHERE timestamp >= %s AND timestamp < %s",
                    lambda v, d: [year_start + dt.timedelta(days=d), year_start + dt.timedelta(days=d, hours=1)],
                ),
            }
            figures = {"fill": fill_rate, "copy": copy_rate, "heap_mb": heap, "index_mb": indexes}
            for qlabel, (sql, params) in queries.items():
                for v, d in picks:  # warm pass
                    conn.execute(sql, params(v, d)).fetchall()
                times, counts = [], []
                for v, d in picks:
                    started = time.perf_counter()
                    result = conn.execute(sql, params(v, d)).fetchall()
                    times.append(time.perf_counter() - started)
                    counts.append(len(result) if "version," in qlabel else result[0][0])
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params(*picks[0])).fetchone()[0]
                top = plan[0]["Plan"]
                buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                figures[qlabel] = (statistics.median(times), buffers, _nodes(top))
                print(
                    f"      {qlabel:<24} median {statistics.median(times) * 1000:7.2f} ms over a median "
                    f"{statistics.median(counts):,.0f} rows; the first: {buffers:,} buffers touched, {_nodes(top)}"
                )
            results[key] = figures
            conn.execute(f"DROP TABLE {table} CASCADE")
    return results


def _month(start: dt.datetime, day: int, ahead: int = 0) -> dt.datetime:
    moment = start + dt.timedelta(days=day)
    month = moment.month - 1 + ahead
    return dt.datetime(moment.year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)


def _nodes(plan: dict) -> str:
    """The plan's scan nodes, briefly: 'Index Scan on x' and how many partitions were read."""
    scans = []

    def walk(node):
        if "Relation Name" in node:
            scans.append(f"{node['Node Type']} {node.get('Index Name', node['Relation Name'])}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return f"{len(scans)} scan{'s' if len(scans) > 1 else ''}: {scans[0]}" if scans else plan["Node Type"]


# ---------------------------------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn (and MLflow) worker processes")
    parser.add_argument("--clients", type=int, default=4, help="client threads posting batches")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--mlflow-budget", type=float, default=600, help="seconds for MLflow's 1,000,000 points")
    parser.add_argument("--storage", action="store_true", help="the storage comparison on 10,000,000 rows")
    parser.add_argument("--storage-rows", type=int, default=None)
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: http,mlflow,copy,storage")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    storage_rows = args.storage_rows or (10_000_000 if args.storage else 1_000_000)

    var_dir = tempfile.mkdtemp(prefix="vigil-bench-monitoring-")
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"  # before django.setup(): the scratch database
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
    admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{DATABASE}"')
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from governance.core import api_tokens
        from risk.monitoring.catalogue import METRICS
        from risk.monitoring.models import IngestBatch
        from tests.base import build_world

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        world = build_world()  # mine (developer) and theirs (developer2), each with 1.0 in production
        token = api_tokens.token_issue(world.developer, lifetime=api_tokens.person_lifetime())[1]
        print(f"scratch database {DATABASE} migrated and set up in {time.perf_counter() - started:.1f} s")
        print(f"PostgreSQL {connection.pg_version // 10000}; python {sys.version.split()[0]}; {load()}")

        metrics = sorted(METRICS)
        main_metrics, other_metrics = metrics[:10], metrics[10:20]
        started = time.perf_counter()
        bodies = point_bodies(args.points, args.batch, main_metrics)
        single = point_bodies(args.batch * 20, args.batch, other_metrics)
        print(f"{len(bodies) + len(single)} point batches built in {time.perf_counter() - started:.1f} s (not timed)")

        figures = {}
        if "http" not in skip:
            port = free_port()
            server = start_server(port, args.workers, var_dir)
            base = f"http://127.0.0.1:{port}"
            wait_up(f"{base}/health/", server)
            warm = point_bodies(args.workers * 4 * 10, 10, ["fill_rate"])
            post_all(f"{base}/api/v1/models/mine/monitoring/points/", token, warm, args.workers * 2)
            section(f"1. points through the HTTP bulk API (gunicorn, {args.workers} sync workers, DEBUG off)")
            figures["http_points"] = http_points(base, token, bodies, args.clients, 20, single)

        section("1b. the same batches in-process (no HTTP), each stage timed over all of them, on one core")
        t = in_process_points(bodies, world.developer2, world.theirs)
        n = t["n"]
        print(f"  json.loads alone            {t['loads']:6.2f} s  {rate(n, t['loads'])}")
        print(f"  the parser's depth check    {t['depth']:6.2f} s  {rate(n, t['depth'])}")
        print(f"  SafeJSONParser.parse (both) {t['parse']:6.2f} s  {rate(n, t['parse'])}")
        print(f"  inputs.clean_points         {t['clean']:6.2f} s  {rate(n, t['clean'])}")
        store = t["service"] - t["clean"]
        print(f"  services.points_ingest      {t['service']:6.2f} s  {rate(n, t['service'])}  (checks + COPY + commit)")
        print(f"    of which COPY and commit  {store:6.2f} s  {rate(n, store)}  (the service less the row checks)")
        serial = t["parse"] + t["service"]
        print(f"  parse + service, one core   {serial:6.2f} s  {rate(n, serial)}")
        before, after = storage_step(world.developer2, world.theirs, min(200_000, args.points), args.batch)
        print(
            f"  storage step alone, 10,000 per transaction: bulk_create {before:,.0f} rows/s, "
            f"insert_rows (COPY) {after:,.0f} rows/s ({after / before:.1f}x)"
        )

        if "http" not in skip:
            section(f"2. predictions (5 features each) through the HTTP bulk API, {args.clients} client threads")
            started = time.perf_counter()
            pbodies = prediction_bodies(args.predictions, args.batch)
            print(f"  {len(pbodies)} batches built in {time.perf_counter() - started:.1f} s (not timed)")
            url = f"{base}/api/v1/models/mine/monitoring/predictions/"
            wall, latencies = post_all(url, token, pbodies, args.clients)
            figures["http_predictions"] = args.predictions / wall
            print(
                f"  {args.predictions:,} predictions in {wall:.1f} s = {rate(args.predictions, wall)} rows "
                f"({sum(map(len, pbodies)) / 1e6:.0f} MB of JSON; "
                f"median request {statistics.median(latencies) * 1000:.0f} ms)"
            )
            p = in_process_predictions(pbodies[:10], world.developer2, world.theirs)
            print(
                f"  in-process, {p['n']:,} of them: parse {rate(p['n'], p['parse'])}, clean_predictions "
                f"{rate(p['n'], p['clean'])}, services.predictions_ingest {rate(p['n'], p['service'])}"
            )
            del pbodies

            section(
                f"3. the series query of one {SERIES_POINTS:,}-point metric ({main_metrics[0]}), {args.repeats} runs"
            )
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE monitoring_metricpoint")  # as autovacuum would after a bulk load
            figures["series"] = series_section(base, token, main_metrics[0], args.repeats)
            stop(server)
            server = None

        if "mlflow" not in skip:
            section(f"4. MLflow {args.points:,} points through its tracking server on the same PostgreSQL")
            figures["mlflow"] = mlflow_section(args.points, args.mlflow_budget, args.workers, var_dir)

        if "copy" not in skip:
            section(
                f"5. the ceiling: psycopg COPY alone, {args.points:,} point rows, {args.batch:,} per COPY and commit"
            )
            kind, actor = IngestBatch.Kind.POINTS, world.developer
            record = IngestBatch.objects.create(
                model=world.mine, version=world.mine_v1, kind=kind, rows=0, received_by=actor
            )
            figures["copy"] = copy_ceiling(args.points, args.batch, world.mine_v1.pk, record.pk)

        if "storage" not in skip:
            section(f"6. storage layout, {storage_rows:,} rows{'' if args.storage else ' (--storage for 10,000,000)'}")
            figures["storage"] = storage_section(storage_rows)

        section("against the targets")
        if "http_points" in figures:
            print(f"  HTTP bulk API: {figures['http_points']:,.0f} points/s (target >= 100,000; MLflow measured 4,700)")
        if "series" in figures:
            worst = max(figures["series"].values())
            nostep = next(iter(figures["series"].values()))
            print(
                f"  100,000-point series: {nostep:.3f} s without a step, {worst:.3f} s at worst "
                f"(target <= 0.3 s; MLflow measured 7.3 s)"
            )
        if figures.get("mlflow"):
            m = figures["mlflow"]
            print(f"  MLflow here: {m['points_per_second']:,.0f} points/s, history {m['history_seconds_median']:.2f} s")
    finally:
        if server is not None:
            stop(server)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""MLflow's half of bench/monitoring_ingest.py, run with .venv-mlflow's python (Vigil's venv never imports mlflow).

Logs points to a running tracking server with MlflowClient.log_batch, 1,000 metrics per call (the server's
limit), one call after another, then times get_metric_history for the metric that holds the first 100,000
points. Prints one JSON object on its last line.

    .venv-mlflow/bin/python bench/_mlflow_side.py --uri http://127.0.0.1:PORT --points 1000000 --budget 300
"""

import argparse
import json
import statistics
import time

PER_CALL = 1000  # MLflow refuses a log_batch of more than 1,000 metrics
HISTORY_POINTS = 100_000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=300.0, help="seconds; past it, stop after 100,000 points")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=args.uri)
    experiment = client.create_experiment(f"vigil-bench-{time.time_ns()}")
    run_id = client.create_run(experiment).info.run_id
    start_ms = int(time.time() * 1000) - 2 * 86400 * 1000
    calls, logged, stopped_early = args.points // PER_CALL, 0, False
    started = time.perf_counter()
    for call in range(calls):
        first = call * PER_CALL
        key = f"m{first // HISTORY_POINTS}"  # m0 holds points 0..99,999: the history timed below
        metrics = [
            Metric(key, 0.5 + (i % 1000) / 1e4, start_ms + (i % HISTORY_POINTS) * 1000, i % HISTORY_POINTS)
            for i in range(first, first + PER_CALL)
        ]
        client.log_batch(run_id, metrics=metrics)
        logged += PER_CALL
        if logged == HISTORY_POINTS and logged < args.points:
            projected = (time.perf_counter() - started) * args.points / logged
            if projected > args.budget:
                stopped_early = True
                break
    elapsed = time.perf_counter() - started

    samples, count = [], 0
    for _ in range(args.repeats):
        t = time.perf_counter()
        history = client.get_metric_history(run_id, "m0")
        samples.append(time.perf_counter() - t)
        count = len(history)
    print(
        json.dumps(
            {
                "points_logged": logged,
                "points_asked": args.points,
                "stopped_early": stopped_early,
                "log_seconds": elapsed,
                "points_per_second": logged / elapsed,
                "history_points": count,
                "history_seconds_median": statistics.median(samples),
                "history_seconds": samples,
            }
        )
    )


if __name__ == "__main__":
    main()

"""Validation metrics on 1,000,000 and 5,000,000 rows: time and peak memory, Vigil against references.

Run by hand (`make bench-validation`); prints its figures, asserts nothing. Measured, per row count:
1. the classifier plan's metrics (confusion counts, accuracy, precision, recall, F1, ROC AUC, calibration
   error) with Vigil's kernels, and with scikit-learn's metric functions on the same arrays;
2. PSI and exact KS of 10 features (reference sample and current sample of the given size each) with
   Vigil's kernels, with plain numpy PSI plus scipy.stats.ks_2samp, and with Evidently's data-drift report
   (PSI, then KS) run on the same data in a separate virtualenv (.venv-bench: Evidently pins a plotly
   that Vigil does not use, so it is never installed beside Vigil);
3. a whole validation run (risk.engine.compute: reading Parquet files, classifier plan, stability on 10
   features, charts) in a fresh process, reporting wall time and peak resident memory.

Peak memory of in-process steps is tracemalloc's peak (NumPy reports its buffers to it) on a second,
separate pass, so timing is not slowed by tracing. "Above the data" means the inputs are not counted.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from risk.metrics import classification, drift  # noqa: E402

FEATURES = 10
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"


def make_data(n: int, seed: int = 20261122) -> dict:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    y_score = np.clip(0.3 * y_true + rng.normal(0.35, 0.2, n), 0, 1)
    reference = rng.normal(0, 1, (FEATURES, n))
    shift = np.linspace(0, 0.3, FEATURES)[:, None]  # feature i drifts by up to 0.3 sd
    current = rng.normal(0, 1, (FEATURES, n)) + shift
    return {
        "y_true": y_true,
        "y_pred": (y_score > 0.5).astype(np.int64),
        "y_score": y_score,
        "ref": reference,
        "cur": current,
    }


def measure(fn, repeat: int = 1) -> tuple[float, float, object]:
    """Best wall time in seconds over `repeat` runs, then tracemalloc's peak in MB on one more run."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20, result


def vigil_classifier(d):
    return classification.classifier_report(d["y_true"], d["y_pred"], d["y_score"])


def sklearn_classifier(d):
    from sklearn import metrics as sk

    t, p, s = d["y_true"], d["y_pred"], d["y_score"]
    return {
        "confusion": sk.confusion_matrix(t, p),
        "accuracy": sk.accuracy_score(t, p),
        "precision": sk.precision_score(t, p),
        "recall": sk.recall_score(t, p),
        "f1": sk.f1_score(t, p),
        "roc_auc": sk.roc_auc_score(t, s),
    }


def vigil_drift(d):
    from concurrent.futures import ThreadPoolExecutor

    from risk.validation.engine import STABILITY_THREADS

    with ThreadPoolExecutor(max_workers=STABILITY_THREADS) as pool:
        return list(pool.map(drift.psi_and_ks, d["ref"], d["cur"]))


def vigil_drift_one_thread(d):
    return [drift.psi_and_ks(r, c) for r, c in zip(d["ref"], d["cur"], strict=True)]


def numpy_scipy_drift(d):
    from scipy import stats

    out = []
    for r, c in zip(d["ref"], d["cur"], strict=True):
        edges = np.quantile(r, np.linspace(0, 1, 11)[1:-1])
        e = np.clip(np.bincount(np.searchsorted(edges, r, side="right"), minlength=10) / r.size, 1e-6, None)
        a = np.clip(np.bincount(np.searchsorted(edges, c, side="right"), minlength=10) / c.size, 1e-6, None)
        out.append((float(np.sum((a - e) * np.log(a / e))), stats.ks_2samp(r, c).statistic))
    return out


def evidently_drift(d, workdir: Path) -> dict | None:
    """Evidently's data-drift report (PSI, then KS) in .venv-bench; None when that virtualenv is missing."""
    if not BENCH_PYTHON.exists():
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [f"f{i}" for i in range(FEATURES)]
    pq.write_table(pa.table(dict(zip(columns, d["ref"], strict=True))), workdir / "ref.parquet")
    pq.write_table(pa.table(dict(zip(columns, d["cur"], strict=True))), workdir / "cur.parquet")
    script = ROOT / "bench" / "evidently_drift.py"
    done = subprocess.run(
        [str(BENCH_PYTHON), str(script), str(workdir / "ref.parquet"), str(workdir / "cur.parquet")],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def whole_run(n: int, workdir: Path) -> dict:
    """risk.validation.engine.compute on Parquet inputs in a fresh process: wall time and peak RSS."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = make_data(n)
    stamps = np.datetime64("2020-01-01T00:00:00", "ns") + np.arange(n).astype("timedelta64[s]")
    log = {"timestamp": stamps, "y_true": d["y_true"], "y_pred": d["y_pred"], "y_score": d["y_score"]}
    log.update({f"f{i}": d["cur"][i] for i in range(FEATURES)})
    pq.write_table(pa.table(log), workdir / "log.parquet")
    pq.write_table(pa.table({f"f{i}": d["ref"][i] for i in range(FEATURES)}), workdir / "training.parquet")
    del d, log
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "validation_run.py"), str(workdir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(label, seconds, peak_mb, baseline=None):
    speed = f"  ({baseline / seconds:4.1f}x the reference)" if baseline else ""
    print(f"  {label:<44} {seconds:8.3f} s   peak {peak_mb:8.1f} MB{speed}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--evidently-max-rows", type=int, default=1_000_000, help="Evidently is slow; skip above")
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}; Python {sys.version.split()[0]}; NumPy {np.__version__}")
    for n in args.rows:
        d = make_data(n)
        data_mb = (d["ref"].nbytes + d["cur"].nbytes + 3 * d["y_true"].nbytes) / 2**20
        print(f"\n{n:,} rows ({data_mb:,.0f} MB of input arrays)")
        print(" classifier plan metrics")
        sk_s, sk_mb, _ = measure(lambda d=d: sklearn_classifier(d), repeat=3)
        v_s, v_mb, _ = measure(lambda d=d: vigil_classifier(d), repeat=3)
        report("scikit-learn metric functions", sk_s, sk_mb)
        report("Vigil kernels", v_s, v_mb, baseline=sk_s)
        print(f" PSI + exact KS on {FEATURES} features ({n:,} reference rows against {n:,} current rows)")
        ns_s, ns_mb, expected = measure(lambda d=d: numpy_scipy_drift(d))
        report("numpy PSI + scipy.stats.ks_2samp", ns_s, ns_mb)
        one_s, one_mb, got = measure(lambda d=d: vigil_drift_one_thread(d))
        report("Vigil, one thread", one_s, one_mb, baseline=ns_s)
        v_s, v_mb, got_threads = measure(lambda d=d: vigil_drift(d))
        report("Vigil, threads (as in a run)", v_s, v_mb, baseline=ns_s)
        worst = max(
            max(abs(a[0] - b[0]), abs(a[1] - b[1]))
            for mine in (got, got_threads)
            for a, b in zip(expected, mine, strict=True)
        )
        print(f"  largest difference from the reference values: {worst:.2e}")
        if n <= args.evidently_max_rows:
            with tempfile.TemporaryDirectory() as tmp:
                ev = evidently_drift(d, Path(tmp))
            if ev is None or "error" in ev:
                why = ev["error"] if ev else "make bench-venv creates .venv-bench with it"
                print(f"  Evidently: skipped ({why})")
            else:
                print(f"  {'Evidently ' + ev['version'] + ' drift report, PSI':<44} {ev['psi_seconds']:8.3f} s")
                peak = ev["peak_rss_mb"]
                print(f"  {'Evidently drift report, KS':<44} {ev['ks_seconds']:8.3f} s   peak {peak:8.1f} MB RSS")
        del d
        with tempfile.TemporaryDirectory() as tmp:
            run = whole_run(n, Path(tmp))
        print(
            f" whole run (Parquet in, classifier plan + stability on {FEATURES} features + charts): "
            f"{run['seconds']:.2f} s, peak RSS {run['peak_rss_mb']:.0f} MB "
            f"({run['rss_before_mb']:.0f} MB before reading)"
        )
    print(f"\n(max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()

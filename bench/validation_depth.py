"""Permutation importance on 100,000 rows x 20 features, 5 repeats, a 200-tree random forest: Vigil's kernel with
the forest converted to ONNX and run by onnxruntime in a confined child process (governance/core/confinement.run,
as validation runs do), against sklearn.inspection.permutation_importance on the original scikit-learn forest.
Also the ONNX model's rows per second. Target: Vigil within 1.5x of scikit-learn's time.

Run by hand: `.venv/bin/python bench/validation_depth.py`; prints its figures, asserts nothing. Vigil's time counts
everything the child does: the fork, loading the ONNX model, 101 predictions of 100,000 rows and the scoring.
The forest predicts with n_jobs=-1 (both cores); onnxruntime with --threads (1 by default).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-validation-depth")

import django  # noqa: E402

django.setup()

from governance.core import confinement  # noqa: E402
from risk.metrics import classification, explain  # noqa: E402

FEATURES = 20
TREES = 200
REPEATS = 5
SEED = 20261207


def make_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, FEATURES))
    weights = np.linspace(1.0, 0.0, FEATURES)  # feature 0 matters most, the last not at all
    y = (X @ weights + 0.5 * X[:, 0] * X[:, 1] + rng.normal(scale=1.5, size=n) > 0).astype(np.int64)
    return X, y


def vigil_importance(onnx_bytes: bytes, X, y, batch_rows: int, threads: int, *, on_progress=None):
    """In the confined child: load the ONNX model, then permutation importance with its predict. Returns the
    result and the ONNX model's rows per second over all its calls."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    # Idle threads sleep instead of spinning: on a shared worker, spinning threads steal the cores they wait for.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    spent = [0.0, 0]

    def predict(block):
        started = time.perf_counter()
        out = session.run(["probabilities"], {name: block.astype(np.float32)})[0][:, 1]
        spent[0] += time.perf_counter() - started
        spent[1] += block.shape[0]
        return out

    def progress(percent):
        print(f"  Vigil: {percent}%", flush=True)

    result = explain.permutation_importance(
        predict,
        classification.roc_auc,
        X,
        y,
        n_repeats=REPEATS,
        random_state=0,
        batch_rows=batch_rows,
        on_progress=progress,
    )
    return result, spent[1] / spent[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=10, help="maximum depth of each tree")
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--batch-copies", type=int, default=REPEATS, help="copies of the data per predict call")
    # One thread: a worker machine runs several jobs at once, and on a busy machine (load 6-10 on 2 cores)
    # one onnxruntime thread ran 2.5x the rows per second of two (20,744 against 8,196).
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime's threads")
    args = parser.parse_args()

    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.inspection import permutation_importance

    X_train, y_train = make_data(args.train_rows, SEED)
    X, y = make_data(args.rows, SEED + 1)
    started = time.perf_counter()
    forest = RandomForestClassifier(
        n_estimators=TREES, max_depth=args.depth, n_jobs=-1, random_state=SEED, min_samples_leaf=5
    ).fit(X_train, y_train)
    took = time.perf_counter() - started
    print(
        f"forest: {TREES} trees, depth <= {args.depth}, fitted on {args.train_rows:,} rows in {took:.1f} s", flush=True
    )
    onnx_model = to_onnx(forest, X_train[:1].astype(np.float32), options={id(forest): {"zipmap": False}})
    onnx_bytes = onnx_model.SerializeToString()
    print(
        f"ONNX model: {len(onnx_bytes) / 1e6:.1f} MB; data {args.rows:,} rows x {FEATURES} features, {REPEATS} repeats",
        flush=True,
    )

    started = time.perf_counter()
    result, rows_per_second = confinement.run(
        vigil_importance, onnx_bytes, X, y, args.batch_copies * args.rows, args.threads, memory_mb=4096, seconds=7200
    )
    vigil_seconds = time.perf_counter() - started
    print(f"Vigil done in {vigil_seconds:.1f} s; scikit-learn next", flush=True)

    started = time.perf_counter()
    reference = permutation_importance(forest, X, y, scoring="roc_auc", n_repeats=REPEATS, random_state=0)
    sklearn_seconds = time.perf_counter() - started

    started = time.perf_counter()
    forest.predict_proba(X)
    sklearn_rows_per_second = args.rows / (time.perf_counter() - started)

    gap = np.abs(result["mean"] - reference.importances_mean).max()
    top_vigil = np.argsort(-result["mean"])[:5].tolist()
    top_sklearn = np.argsort(-reference.importances_mean)[:5].tolist()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"Vigil, ONNX in a confined child ({args.batch_copies} copies per call, {args.threads} threads): "
        f"{vigil_seconds:.1f} s"
    )
    print(f"scikit-learn permutation_importance on the forest:  {sklearn_seconds:.1f} s")
    print(f"ratio Vigil / scikit-learn: {vigil_seconds / sklearn_seconds:.2f} (target <= 1.5)")
    print(f"ONNX rows per second (over all its calls):            {rows_per_second:,.0f}")
    print(f"scikit-learn forest rows per second (predict_proba):   {sklearn_rows_per_second:,.0f}")
    print(f"largest gap between the mean importances (float32 ONNX vs float64 forest): {gap:.2e}")
    print(f"top five features: Vigil {top_vigil}, scikit-learn {top_sklearn}")


if __name__ == "__main__":
    main()

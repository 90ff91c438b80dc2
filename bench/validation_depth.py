"""Permutation importance on 100,000 rows x 20 features, 5 repeats, a 200-tree random forest: Vigil's kernel with
the forest converted to ONNX and run by onnxruntime in a confined child process (governance/core/confinement.run,
as validation runs do), against sklearn.inspection.permutation_importance on the original scikit-learn forest.
Also the ONNX model's rows per second. Target: Vigil within 1.5x of scikit-learn's time.

Run by hand: `.venv/bin/python bench/validation_depth.py [--rows 20000 --trees 50]`; prints its figures, asserts
nothing. Vigil's time counts everything the child does: the fork, loading the ONNX model with model_runtime and
feeding it as a validation run does, 101 predictions of 100,000 rows and the scoring. Like with like: the forest
predicts with n_jobs=-1 (every core), Vigil with model_runtime.THREADS calls at once (every core, up to 4).
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
from risk.validation import model_runtime  # noqa: E402

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


def vigil_importance(onnx_bytes: bytes, X, y, batch_rows: int, threads: int | None, *, on_progress=None):
    """In the confined child, as a validation run does it (risk.validation.depth): load the ONNX model with
    model_runtime, feed it the log's columns, permutation importance with its predict. Returns the result and the
    ONNX model's rows per second over all its calls."""
    if threads is not None:
        model_runtime.THREADS = threads  # the child's copy of the module: the parent keeps its own
    model = model_runtime.load(onnx_bytes, "forest.onnx")
    header = [f"x{j}" for j in range(FEATURES)]
    feed = model.feed_for(header, None, set(), "bench")
    spent = [0.0, 0]

    def predict(block):
        started = time.perf_counter()
        columns = {f: block[:, j] for j, f in enumerate(feed.features)}
        out = model.predict(feed, columns, "classifier", block.shape[0]).y_score
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
    return result, spent[1] / spent[0], model.threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=10, help="maximum depth of each tree")
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--trees", type=int, default=TREES)
    parser.add_argument(
        "--batch-rows", type=int, default=model_runtime.BATCH_ROWS, help="rows per predict call (validation runs' own)"
    )
    parser.add_argument("--threads", type=int, default=None, help="Vigil's calls at once (default model_runtime's)")
    parser.add_argument("--sklearn-jobs", type=int, default=-1, help="the forest's n_jobs when it predicts")
    args = parser.parse_args()

    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.inspection import permutation_importance

    X_train, y_train = make_data(args.train_rows, SEED)
    X, y = make_data(args.rows, SEED + 1)
    started = time.perf_counter()
    forest = RandomForestClassifier(
        n_estimators=args.trees, max_depth=args.depth, n_jobs=-1, random_state=SEED, min_samples_leaf=5
    ).fit(X_train, y_train)
    took = time.perf_counter() - started
    print(f"forest: {args.trees} trees, depth <= {args.depth}, fitted on {args.train_rows:,} rows in {took:.1f} s")
    onnx_model = to_onnx(forest, X_train[:1].astype(np.float32), options={id(forest): {"zipmap": False}})
    onnx_bytes = onnx_model.SerializeToString()
    print(
        f"ONNX model: {len(onnx_bytes) / 1e6:.1f} MB; data {args.rows:,} rows x {FEATURES} features, {REPEATS} repeats",
        flush=True,
    )

    forest.set_params(n_jobs=args.sklearn_jobs)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    result, rows_per_second, threads = confinement.run(
        vigil_importance, onnx_bytes, X, y, args.batch_rows, args.threads, memory_mb=4096, seconds=7200
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
    load_after = os.getloadavg()[0]
    print(f"load average: {load_before:.1f} at the start, {load_after:.1f} at the end, on {os.cpu_count()} cores")
    print(
        f"Vigil, ONNX in a confined child ({args.batch_rows:,} rows a call, {threads} at once): {vigil_seconds:.1f} s"
    )
    print(f"scikit-learn permutation_importance, n_jobs={args.sklearn_jobs}:  {sklearn_seconds:.1f} s")
    print(f"ratio Vigil / scikit-learn: {vigil_seconds / sklearn_seconds:.2f} (target <= 1.5)")
    print(f"ONNX rows per second (over all its calls):            {rows_per_second:,.0f}")
    print(f"scikit-learn forest rows per second (predict_proba):   {sklearn_rows_per_second:,.0f}")
    print(f"largest gap between the mean importances (float32 ONNX vs float64 forest): {gap:.2e}")
    print(f"top five features: Vigil {top_vigil}, scikit-learn {top_sklearn}")


if __name__ == "__main__":
    main()

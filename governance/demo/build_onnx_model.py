"""Rebuild the demo's ONNX model: `python -m governance.demo.build_onnx_model` (needs the development requirements).

A small random forest (seeded: the same file on every build) fitted with scikit-learn on the training sample the
demo attaches to fx-carry-g10, converted by skl2onnx with its probabilities as a tensor (no ZipMap), and written to
governance/demo/models/. The seed scores the demo's prediction log with this file (demo_model.scored_log)."""

import hashlib
import io
import sys
from pathlib import Path

import numpy as np
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestClassifier

from governance.demo import demo_model

TREES, DEPTH, LEAF, SEED = 15, 4, 20, 7  # few, shallow trees: a file of a few dozen kilobytes


def build() -> bytes:
    table = np.genfromtxt(io.BytesIO(demo_model.training_sample()), delimiter=",", names=True)
    features = np.column_stack([table[f] for f in demo_model.FEATURES])
    forest = RandomForestClassifier(n_estimators=TREES, max_depth=DEPTH, min_samples_leaf=LEAF, random_state=SEED)
    forest.fit(features, table["y_true"].astype(np.int64))
    model = convert_sklearn(
        forest,
        name=demo_model.MODEL_KEY,
        initial_types=[("features", FloatTensorType([None, len(demo_model.FEATURES)]))],
        options={id(forest): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    model.doc_string = f"{demo_model.MODEL_KEY}: features {', '.join(demo_model.FEATURES)}, in this order."
    return model.SerializeToString()


def main(path: Path = demo_model.MODEL_FILE) -> None:
    content = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    sys.stdout.write(f"{path}: {len(content):,} bytes, sha256 {hashlib.sha256(content).hexdigest()}\n")


if __name__ == "__main__":
    main()

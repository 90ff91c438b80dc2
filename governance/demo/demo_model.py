"""The demo's one model Vigil runs itself: fx-carry-g10, a random-forest alpha model, ships as an ONNX file
(governance/demo/models/, rebuilt by `python -m governance.demo.build_onnx_model` from the training sample the demo
attaches). Its prediction log is what that file predicts on the log's features, so the validation run's
re-performance ("predictions reproduce") finds every row, and the run cites the file as its model."""

from pathlib import Path

import numpy as np

from governance.core import confinement
from governance.demo import demo_files
from risk.validation import model_runtime

MODEL_KEY = "fx-carry-g10"
MODEL_FILE = Path(__file__).with_name("models") / f"{MODEL_KEY}.onnx"
FEATURES = demo_files.MODEL_FEATURES.get(MODEL_KEY, demo_files.FEATURES)
DESCRIPTION = "Random forest as ONNX, built from the training sample by governance/demo/build_onnx_model.py"


def evidence_for(key: str, parts: list[str]) -> list[tuple[str, bytes, str, str]]:
    """demo_files.evidence_for, and for the model Vigil runs: its ONNX file, and a prediction log scored by it."""
    files = demo_files.evidence_for(key, parts)
    if key != MODEL_KEY or not any(name.endswith("-predictions.csv") for name, *_ in files):
        return files
    model = MODEL_FILE.read_bytes()
    scored = [
        (name, scored_log(content, model), kind, f"{description}, scored by the ONNX model attached")
        if name.endswith("-predictions.csv")
        else (name, content, kind, description)
        for name, content, kind, description in files
    ]
    return [*scored, (f"{key}-model.onnx", model, "model_onnx", DESCRIPTION)]


def training_sample() -> bytes:
    """The training sample the demo attaches to the model's versions (what the forest is fitted on)."""
    files = demo_files.evidence_for(MODEL_KEY, ["classifier"])
    return next(content for name, content, *_ in files if name.endswith("-training.csv"))


def scored_log(log: bytes, model: bytes) -> bytes:
    """The log with y_pred and y_score replaced by the model's predictions on its features (as written)."""
    lines = log.decode().splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    columns = {f: np.array([float(row[header.index(f)]) for row in rows]) for f in FEATURES}
    # In a child process, as a validation run does: onnxruntime's threads must not live in a process that forks
    # later (the seed forks a child for each validation run).
    y_pred, y_score = confinement.run(_predict, model, columns, memory_mb=1024, seconds=600)
    at_pred, at_score = header.index("y_pred"), header.index("y_score")
    for row, label, score in zip(rows, y_pred, y_score, strict=True):
        row[at_pred], row[at_score] = f"{int(label)}", f"{score:.9g}"
    return ("\n".join(",".join(row) for row in [header, *rows]) + "\n").encode()


def _predict(model: bytes, columns: dict, on_progress) -> tuple[np.ndarray, np.ndarray]:
    runnable = model_runtime.load(model, MODEL_FILE.name)
    feed = runnable.feed_for(list(columns), list(columns), set(), "the demo's prediction log")
    predicted = runnable.predict(feed, columns, "classifier", len(next(iter(columns.values()))))
    return predicted.y_pred, predicted.y_score

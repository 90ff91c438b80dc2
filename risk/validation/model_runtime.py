"""Running a version's model, an ONNX file (evidence kind model_onnx), on the rows of its prediction log.

Only inside a validation run's computation, which runs in a child process with a memory and a time limit
(governance.core.confinement, from runs._compute): onnx and onnxruntime are imported inside these functions, so
no web process, and no worker between runs, ever loads them (tests/core/test_process_footprint.py). Vigil never
loads pickles: an ONNX file is a graph of standard operators and their weights, data that the runtime interprets.

What a developer's file can get wrong is said, never raised as a crash: `ModelUnusable` names it (the file does not
load, keeps its weights in other files, uses an operator the runtime lacks, has inputs that do not match the log's
columns, or outputs that are not predictions). A model that allocates beyond the run's memory raises MemoryError,
which the confinement reports as its memory limit; one that never ends is stopped by its time limit.
"""

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

BATCH_ROWS = 65_536  # rows per batch: large enough to split among the threads, small enough to bound its buffers
THREADS = min(4, os.cpu_count() or 1)  # calls on parts of a batch at once, each on one onnxruntime thread
SPLIT_ROWS = 4_096  # fewest rows a part: below, a thread's start costs more than it saves
# onnxruntime's tree ensemble kernel walks every tree for 128 rows at a time; rows that take the same paths share
# the nodes it brings into the cache, so a batch is ordered into groups of that many alike rows (Model._order)
GROUP_ROWS = 128
TREE_OPERATORS = {"TreeEnsembleClassifier", "TreeEnsembleRegressor"}
# The element types Vigil feeds from a table of numbers.
INPUT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}
LABEL_TYPES = {"tensor(int64)", "tensor(int32)", "tensor(string)", "tensor(bool)"}
FLOAT_TYPES = {"tensor(float)", "tensor(double)", "tensor(float16)"}
_OUT_OF_MEMORY = ("Failed to allocate memory", "bad_alloc", "bad allocation")


class ModelUnusable(ValueError):
    """The model cannot be run on this prediction log; the message says why, for the validator."""


@dataclass
class Feed:
    """How the log's columns go into the model: one input per feature column (by name), or one 2-D input
    of every feature (`matrix`), `batch` rows at a time."""

    features: list[str]
    inputs: list[tuple[str, type]]  # (input name, element type)
    matrix: bool
    batch: int


@dataclass
class Predictions:
    y_pred: np.ndarray
    y_score: np.ndarray | None
    notes: list[str] = field(default_factory=list)  # what was assumed or could not be compared, in words


def _shape(arg) -> str:
    return "[" + ", ".join("N" if not isinstance(d, int) else str(d) for d in (arg.shape or [])) + "]"


def _described(args) -> str:
    return ", ".join(f"{a.name} {a.type.removeprefix('tensor(').rstrip(')')}{_shape(a)}" for a in args)


def _runtime_message(exc) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)[:300]


def _raise_memory(exc) -> None:
    if any(marker in str(exc) for marker in _OUT_OF_MEMORY):
        raise MemoryError(_runtime_message(exc)) from None


class Model:
    """A loaded ONNX model: its inputs and outputs, matched to a log and run on it."""

    def __init__(self, session, name: str, threads: int = 1, splits: np.ndarray | None = None):
        self.session, self.name, self.threads = session, name, threads
        self.inputs, self.outputs = session.get_inputs(), session.get_outputs()
        self.splits = splits  # a tree ensemble's features, most rows routed first (_tree_splits); None otherwise

    # --- inputs -----------------------------------------------------------------------------------------

    def feed_for(self, header: list[str], chosen: list[str] | None, role_columns: set[str], log_name: str) -> Feed:
        """Match the model's inputs to the log's columns: by name when it takes one input per feature; when it
        takes one 2-D input, the plan's features (`chosen`) or every column without a role, in file order."""
        inputs = self.inputs
        if not inputs:
            raise ModelUnusable("the model takes no input")
        for arg in inputs:
            if arg.type not in INPUT_TYPES:
                raise ModelUnusable(
                    f"its input {arg.name} takes {arg.type}; Vigil feeds the numbers of the prediction log"
                )
        single, rank = inputs[0], len(inputs[0].shape or [])
        width = single.shape[1] if rank == 2 and isinstance(single.shape[1], int) else None
        if len(inputs) > 1 or (single.name in header and rank <= 2 and width in (1, None)):
            return self._by_name(header, log_name)
        if rank != 2:
            raise ModelUnusable(
                f"its input {single.name} has shape {_shape(single)}; Vigil feeds the log's rows as one 2-D input "
                "[rows, features] or as one input per feature column, named after it"
            )
        if chosen:
            missing = [c for c in chosen if c not in header]
            if missing:
                raise ModelUnusable(f"the plan's features {', '.join(missing)} are not columns of {log_name}")
            features = list(chosen)
        else:
            features = [c for c in header if c not in role_columns]
        if not features:
            raise ModelUnusable(f"{log_name} has no feature columns to feed its input {single.name}")
        if width is not None and width != len(features):
            source = "the plan names" if chosen else f"{log_name} has"
            raise ModelUnusable(
                f"its input {single.name} takes {width} features a row; {source} {len(features)} feature "
                f"column{'s' if len(features) != 1 else ''} ({', '.join(features)}). Set the plan's features "
                "option to the model's columns, in the model's order"
            )
        return Feed(features, [(single.name, INPUT_TYPES[single.type])], True, self._batch())

    def _by_name(self, header: list[str], log_name: str) -> Feed:
        missing = [a.name for a in self.inputs if a.name not in header]
        if missing:
            raise ModelUnusable(
                f"its inputs {', '.join(missing)} are not columns of {log_name} (a model with one input per "
                f"feature is fed the columns of the same names; the model takes {_described(self.inputs)}; the "
                f"log has {', '.join(header)})"
            )
        for arg in self.inputs:
            rank = len(arg.shape or [])
            if rank > 2 or (rank == 2 and isinstance(arg.shape[1], int) and arg.shape[1] != 1):
                raise ModelUnusable(
                    f"its input {arg.name} has shape {_shape(arg)}; an input named after a column takes that one "
                    "column, [N] or [N, 1]"
                )
        return Feed(
            [a.name for a in self.inputs], [(a.name, INPUT_TYPES[a.type]) for a in self.inputs], False, self._batch()
        )

    def _batch(self) -> int:
        fixed = {a.shape[0] for a in self.inputs if a.shape and isinstance(a.shape[0], int)}
        if not fixed:
            return BATCH_ROWS
        if fixed == {1}:
            return 1
        raise ModelUnusable(
            f"its inputs take exactly {', '.join(map(str, sorted(fixed)))} rows a call; export it with a free "
            "batch dimension (or one row a call)"
        )

    def _fed(self, feed: Feed, columns: dict[str, np.ndarray], start: int, stop: int) -> dict:
        feeds = {}
        if feed.matrix:
            name, kind = feed.inputs[0]
            block = np.column_stack([columns[f][start:stop] for f in feed.features])
            feeds[name] = _cast(block, kind, name, ", ".join(feed.features))
        else:
            for (name, kind), arg in zip(feed.inputs, self.inputs, strict=True):
                values = columns[name][start:stop]
                values = values.reshape(-1, 1) if len(arg.shape or []) == 2 else values
                feeds[name] = _cast(values, kind, name, name)
        return feeds

    # --- outputs ----------------------------------------------------------------------------------------

    def _roles(self, kind: str) -> dict:
        """Which output holds the labels, the probabilities, a lone score or a regressor's value."""
        outputs = self.outputs
        described = _described(outputs) or "none"
        if kind == "regressor":
            value = next((o for o in outputs if o.type in FLOAT_TYPES), None)
            if value is None:
                raise ModelUnusable(f"its outputs ({described}) hold no predicted value: a regressor outputs numbers")
            return {"value": value}
        label = next((o for o in outputs if o.type in LABEL_TYPES), None)
        proba = next(
            (
                o
                for o in outputs
                if o is not label
                and (o.type.startswith("seq(map(") or (o.type in FLOAT_TYPES and len(o.shape or []) == 2))
            ),
            None,
        )
        if label is None and proba is None:
            score = next((o for o in outputs if o.type in FLOAT_TYPES), None)
            if score is None:
                raise ModelUnusable(f"its outputs ({described}) hold no labels or probabilities")
            return {"score": score}
        return {"label": label, "proba": proba}

    def predict(self, feed: Feed, columns: dict[str, np.ndarray], kind: str, rows: int) -> Predictions:
        """The model's y_pred (and, for a classifier, y_score) on every row, `feed.batch` rows a call."""
        roles = {k: v for k, v in self._roles(kind).items() if v is not None}
        names = [o.name for o in roles.values()]
        y_pred, y_score = np.empty(rows), np.empty(rows)
        notes, has_score = None, True
        for start in range(0, rows, feed.batch):
            stop = min(start + feed.batch, rows)
            try:
                feeds = self._fed(feed, columns, start, stop)
                order = self._order(feed, feeds)
                if order is not None:
                    feeds = {k: v[order] for k, v in feeds.items()}
                outs = self._run(names, feeds)
                if order is not None:
                    outs = [_in_row_order(out, order) for out in outs]
                got = dict(zip(names, outs, strict=True))
            except Exception as exc:  # onnxruntime raises its own types, each a RuntimeError in spirit
                _raise_memory(exc)
                raise ModelUnusable(
                    f"onnxruntime failed on rows {start + 2} to {stop + 1}: {_runtime_message(exc)}"
                ) from None
            pred, score, why = _read(roles, got, stop - start)
            notes = why if notes is None else notes  # every batch reads the same outputs
            y_pred[start:stop] = pred
            if score is None:
                has_score = False
            else:
                y_score[start:stop] = score
        return Predictions(y_pred, y_score if has_score else None, notes or [])

    def _order(self, feed: Feed, feeds: dict) -> np.ndarray | None:
        """An order of a batch's rows for a tree ensemble (None: as they come): halved at the median of the feature
        that routes the most rows, each half at the next one's, ... down to GROUP_ROWS alike rows. Each row is still
        predicted on its own and its prediction put back in its place: the order only decides which rows share the
        cache (a 200-tree forest on a loaded 2-core machine: 12,600 rows/s as they come, 27,000-41,000 ordered)."""
        if self.splits is None or not feed.matrix:
            return None
        block = next(iter(feeds.values()))
        if block.ndim != 2 or block.shape[0] < 2 * GROUP_ROWS or self.splits.max() >= block.shape[1]:
            return None
        order, groups, level = np.arange(block.shape[0]), [(0, block.shape[0])], 0
        while groups:
            column, halves = block[:, self.splits[level % self.splits.size]], []
            for a, b in groups:
                if b - a > GROUP_ROWS:
                    rows, middle = order[a:b], (b - a) // 2
                    order[a:b] = rows[np.argpartition(column[rows], middle)]
                    halves += [(a, a + middle), (a + middle, b)]
            groups, level = halves, level + 1
        return order

    def _run(self, names: list[str], feeds: dict) -> list:
        """session.run on a batch, split by rows into up to `threads` calls that run at once (onnxruntime's run is
        thread-safe and releases the GIL), their outputs joined in row order. Why not the runtime's own threads:
        its tree ensemble kernel splits the trees among them for every 128 rows, a hand-over per 128 rows; parts
        hand over once a call (bench/validation_depth.py). A batch of rows is already assumed to be predicted row
        by row: Vigil cuts the log into batches."""
        rows = next(iter(feeds.values())).shape[0]
        parts = min(self.threads, rows // SPLIT_ROWS)
        if parts <= 1:
            return self.session.run(names, feeds)
        cuts = np.linspace(0, rows, parts + 1).astype(int)
        pieces = [{k: v[a:b] for k, v in feeds.items()} for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        with ThreadPoolExecutor(parts - 1) as pool:  # the calling thread runs the first part
            later = [pool.submit(self.session.run, names, piece) for piece in pieces[1:]]
            done = [self.session.run(names, pieces[0]), *(f.result() for f in later)]
        return [_joined([out[i] for out in done]) for i in range(len(names))]


def _in_row_order(out, order: np.ndarray):
    """An output of the rows taken in `order`, put back in the batch's own order."""
    if isinstance(out, list) and len(out) == order.size:
        back = [None] * order.size
        for row, value in zip(order.tolist(), out, strict=True):
            back[row] = value
        return back
    if isinstance(out, np.ndarray) and out.ndim and out.shape[0] == order.size:
        back = np.empty_like(out)
        back[order] = out
        return back
    return out  # not one value a row: _column says so


def _joined(parts: list):
    """One output of the parts of a batch, in row order: lists (ZipMap's maps) end to end, tensors along rows; a
    tensor without rows is left as the first part gave it, for _column to say it does not fit the rows."""
    if isinstance(parts[0], list):
        return [row for part in parts for row in part]
    if np.ndim(parts[0]) == 0:
        return parts[0]
    return np.concatenate(parts, axis=0)


def _cast(values: np.ndarray, kind, name: str, columns: str) -> np.ndarray:
    if np.issubdtype(kind, np.integer) and not np.array_equal(values, np.round(values)):
        raise ModelUnusable(f"its input {name} takes whole numbers; {columns} hold fractions")
    return np.ascontiguousarray(values, dtype=kind)


def _column(values, name: str, rows: int) -> np.ndarray:
    array = np.asarray(values)
    if array.size != rows:
        raise ModelUnusable(f"its output {name} gave {array.size} values for {rows} rows")
    return array.reshape(-1)


def _numeric_labels(labels: np.ndarray, name: str) -> np.ndarray:
    try:
        return labels.astype(np.float64)
    except ValueError:
        sample = ", ".join(repr(str(v)) for v in labels[:3])
        raise ModelUnusable(
            f"its labels ({name}: {sample}) are text; the prediction log's y_pred holds numbers"
        ) from None


def _read(roles: dict, got: dict, rows: int) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """One batch's y_pred and y_score (None when the model gives no score to compare), and notes in words."""
    if "value" in roles:
        out = roles["value"]
        return _column(got[out.name], out.name, rows).astype(np.float64), None, []
    if "score" in roles:
        out = roles["score"]
        score = _column(got[out.name], out.name, rows).astype(np.float64)
        note = f"the model outputs one score ({out.name}); its label is taken as score >= 0.5"
        return (score >= 0.5).astype(np.float64), score, [note]
    label, proba, notes = roles.get("label"), roles.get("proba"), []
    score = classes = None
    if proba is not None:
        matrix, classes = _probabilities(got[proba.name], proba.name, rows)
        if matrix.shape[1] == 2:
            score = matrix[:, 1]  # the second class: scikit-learn's classes_[1], the larger label
        else:
            notes.append(f"y_score not compared: the model has {matrix.shape[1]} classes, not two")
    else:
        notes.append("y_score not compared: the model outputs no probabilities")
    if label is not None:
        pred = _numeric_labels(_column(got[label.name], label.name, rows), label.name)
    else:
        pred = _numeric_labels(np.asarray(classes)[np.argmax(matrix, axis=1)], proba.name)
        notes.append(f"the model outputs no labels: each row's is its most probable class ({proba.name})")
    return pred, score, notes


def _probabilities(values, name: str, rows: int) -> tuple[np.ndarray, list]:
    """Class probabilities as a [rows, classes] matrix and the classes in column order: from a tensor (classes
    0, 1, ...) or from one {class: probability} map per row (skl2onnx's ZipMap)."""
    if isinstance(values, list):
        if len(values) != rows:
            raise ModelUnusable(f"its output {name} gave {len(values)} rows of probabilities for {rows} rows")
        classes = sorted(values[0]) if values else []
        matrix = np.array([[row[c] for c in classes] for row in values], dtype=np.float64).reshape(rows, len(classes))
        return matrix, classes
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != rows:
        raise ModelUnusable(f"its output {name} has shape {list(matrix.shape)} for {rows} rows")
    if matrix.shape[1] == 1:  # one column: the positive class's probability
        matrix = np.column_stack([1.0 - matrix[:, 0], matrix[:, 0]])
    return matrix, list(range(matrix.shape[1]))


# --- loading --------------------------------------------------------------------------------------------


def load(content: bytes, name: str) -> Model:
    """The model of these bytes, ready to run; ModelUnusable says why not."""
    import onnx  # here only: see the module's docstring
    import onnxruntime as ort

    try:
        proto = onnx.load_model_from_string(content)
    except Exception as exc:  # protobuf's DecodeError and its kin
        raise ModelUnusable(f"{name} does not load as an ONNX model ({str(exc)[:200] or type(exc).__name__})") from None
    external = _external_tensors(proto)
    if external:
        raise ModelUnusable(
            f"{name} keeps weights in other files ({', '.join(sorted(external)[:5])}); Vigil reads the one file "
            "attached: save the model with its weights inside"
        )
    options = ort.SessionOptions()
    # One thread a call, no pool of the runtime's own (Model._run runs THREADS calls at once instead): no thread of
    # its pool spins or sleeps between the kernel's slices of a batch.
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.log_severity_level = 4  # the reason goes into the run's results, not the worker's log
    try:
        session = ort.InferenceSession(content, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        _raise_memory(exc)
        raise ModelUnusable(_load_failure(name, exc, ort.__version__)) from None
    return Model(session, name, THREADS, _tree_splits(proto))


def load_evidence(evidence) -> Model:
    with evidence.file.storage.open(evidence.file.name, "rb") as handle:
        content = handle.read()
    return load(content, evidence.original_name)


def _load_failure(name: str, exc, version: str) -> str:
    message = _runtime_message(exc)
    operator = re.search(
        r"No Op registered for (\S+)|(\S+) is not a registered function/op|implementation for (\S+)", message
    )
    if operator:
        op = next(g for g in operator.groups() if g)
        return f"{name} uses an operator onnxruntime {version} lacks: {op} ({message})"
    if "INVALID_PROTOBUF" in str(exc) or "protobuf parsing failed" in message:
        return f"{name} does not load as an ONNX model (protobuf parsing failed)"
    return f"onnxruntime {version} refused {name}: {message}"


def _tree_splits(proto) -> np.ndarray | None:
    """The features of the graph's tree ensembles (ai.onnx.ml TreeEnsembleClassifier/Regressor), ranked by the
    share of rows each routes: a split at depth d sees 2^-d of a tree's rows, summed over every tree. None when
    the graph has no such ensemble. Only Model._order reads it: a wrong ranking costs speed, never a prediction."""
    from onnx import helper

    weights = np.zeros(0)
    for node in proto.graph.node:
        if node.domain != "ai.onnx.ml" or node.op_type not in TREE_OPERATORS:
            continue
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        try:
            trees, ids = np.asarray(a["nodes_treeids"], np.int64), np.asarray(a["nodes_nodeids"], np.int64)
            features = np.asarray(a["nodes_featureids"], np.int64)
            true, false = np.asarray(a["nodes_truenodeids"], np.int64), np.asarray(a["nodes_falsenodeids"], np.int64)
            split = np.asarray([m != b"LEAF" for m in a["nodes_modes"]], dtype=bool)
            depth = _depths(trees, ids, true, false, split)
        except (KeyError, ValueError, IndexError):
            continue  # an ensemble the runtime will judge; it just is not ordered for
        if features.size and features.min() >= 0:
            if weights.size <= features.max():
                weights = np.pad(weights, (0, features.max() + 1 - weights.size))
            np.add.at(weights, features[split], 0.5 ** depth[split])
    used = np.flatnonzero(weights > 0)
    return used[np.argsort(-weights[used], kind="stable")] if used.size else None


def _depths(trees, ids, true, false, split) -> np.ndarray:
    """Each node's depth in its tree: a root (no node's child) is 0, its children 1, ..."""
    span = int(ids.max()) + 1
    keys = trees * span + ids
    order = np.argsort(keys, kind="stable")

    def index(child_ids):
        wanted = trees[split] * span + child_ids[split]
        found = order[np.searchsorted(keys[order], wanted).clip(0, keys.size - 1)]
        if not np.array_equal(keys[found], wanted):
            raise ValueError("a child that is not a node")
        return found

    parents = np.flatnonzero(split)
    children = np.concatenate([index(true), index(false)])
    parent_of = np.full(keys.size, -1)
    parent_of[children] = np.concatenate([parents, parents])
    depth = np.zeros(keys.size, np.int64)
    pending = parent_of >= 0
    for _ in range(keys.size):
        if not pending.any():
            break
        ready = pending & ~pending[np.maximum(parent_of, 0)]
        if not ready.any():
            raise ValueError("a cycle")
        depth[ready] = depth[parent_of[ready]] + 1
        pending &= ~ready
    return depth


def _external_tensors(proto) -> set[str]:
    """Locations of tensors stored outside the file: the runtime would read them from the worker's disk."""
    import onnx

    def of_nodes(nodes):
        for node in nodes:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    yield attribute.t
                yield from attribute.tensors
                for graph in [attribute.g] * attribute.HasField("g") + list(attribute.graphs):
                    yield from of_graph(graph)

    def of_graph(graph):
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield from (sparse.values, sparse.indices)
        yield from of_nodes(graph.node)

    tensors = [*of_graph(proto.graph), *(t for function in proto.functions for t in of_nodes(function.node))]
    return {
        next((e.value for e in t.external_data if e.key == "location"), t.name)
        for t in tensors
        if t.data_location == onnx.TensorProto.EXTERNAL
    }

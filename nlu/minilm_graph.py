"""all-MiniLM-L6-v2 written out as an ONNX graph, from its safetensors weights, for ONNX Runtime.

The graph is BERT as the weights' ``config.json`` describes it (6 layers, 384 wide, 12
heads, exact GELU, layer-norm epsilon 1e-12), followed by sentence-transformers' pooling:
the tokens' last hidden states averaged (padding left out) and scaled to unit length. It is
built in memory when the encoder loads (under a second), so the only file on disk is the
wheel's; no exporter (torch) is needed. Only standard operators (opset 17).

Inputs: ``ids`` (batch, length) token ids; ``mask`` (batch, length) 1.0 for a token, 0.0
for padding; ``positions`` (length,) 0..length-1. Output: ``vector`` (batch, 384).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from onnx import NodeProto, TensorProto, helper, numpy_helper

LAYERS = 6
HEADS = 12
_EPSILON = 1e-12
_OPSET = 17  # LayerNormalization
_IR_VERSION = 8  # what ONNX Runtime 1.x reads at opset 17


class _Graph:
    """Nodes and constants added in order; each node's output gets a fresh name."""

    def __init__(self, tensors: Mapping[str, NDArray[np.float32]]) -> None:
        self._tensors = tensors
        self.nodes: list[NodeProto] = []
        self.constants: list[TensorProto] = []

    def weight(self, name: str, *, transpose: bool = False) -> str:
        array = self._tensors[name]
        return self.constant(name, array.T if transpose else array)

    def constant(self, name: str, value: NDArray[np.generic] | float) -> str:
        array = np.asarray(value, dtype=np.float32) if isinstance(value, float) else value
        self.constants.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind: str, *inputs: str, **attributes: Any) -> str:
        output = f"{kind.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(kind, list(inputs), [output], **attributes))
        return output

    def linear(self, x: str, prefix: str) -> str:
        """``x @ W.T + b`` for a PyTorch ``Linear`` stored as ``prefix.weight`` (out, in)."""
        product = self.op("MatMul", x, self.weight(f"{prefix}.weight", transpose=True))
        return self.op("Add", product, self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str) -> str:
        scale, bias = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=_EPSILON)


def minilm_graph(tensors: Mapping[str, NDArray[np.float32]]) -> bytes:
    """The serialized ONNX model of the encoder with ``tensors`` (a ``KeyError`` names a
    missing weight)."""
    g = _Graph(tensors)
    width = int(tensors["embeddings.word_embeddings.weight"].shape[1])
    size = width // HEADS
    # Every text is one segment (type 0): its vector is folded into the positions'.
    positions = g.constant(
        "positions_table",
        tensors["embeddings.position_embeddings.weight"]
        + tensors["embeddings.token_type_embeddings.weight"][0],
    )
    x = g.op("Gather", g.weight("embeddings.word_embeddings.weight"), "ids", axis=0)
    x = g.op("Add", x, g.op("Gather", positions, "positions", axis=0))
    x = g.layer_norm(x, "embeddings.LayerNorm")
    # Padding is kept out of attention by a large negative score: (mask - 1) * 1e9.
    blocked = g.op("Mul", g.op("Sub", "mask", g.constant("one", 1.0)), g.constant("big", 1e9))
    blocked = g.op("Unsqueeze", blocked, g.constant("head_axes", np.array([1, 2], np.int64)))
    split = g.constant("split_heads", np.array([0, 0, HEADS, size], np.int64))
    joined = g.constant("join_heads", np.array([0, 0, width], np.int64))
    scale = g.constant("scale", float(1.0 / np.sqrt(size)))
    root_two, half = g.constant("root_two", float(np.sqrt(2.0))), g.constant("half", 0.5)
    for n in range(LAYERS):
        p = f"encoder.layer.{n}."

        def heads(name: str, order: list[int], x: str = x, p: str = p) -> str:
            projected = g.linear(x, f"{p}attention.self.{name}")
            return g.op("Transpose", g.op("Reshape", projected, split), perm=order)

        query = heads("query", [0, 2, 1, 3])  # (batch, heads, length, size)
        key = heads("key", [0, 2, 3, 1])  # (batch, heads, size, length)
        value = heads("value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), scale), blocked)
        weights = g.op("Softmax", scores, axis=-1)
        context = g.op("Transpose", g.op("MatMul", weights, value), perm=[0, 2, 1, 3])
        attended = g.linear(g.op("Reshape", context, joined), f"{p}attention.output.dense")
        x = g.layer_norm(g.op("Add", attended, x), f"{p}attention.output.LayerNorm")
        hidden = g.linear(x, f"{p}intermediate.dense")
        # BERT's exact GELU: x * (1 + erf(x / sqrt 2)) / 2.
        curve = g.op("Add", g.op("Erf", g.op("Div", hidden, root_two)), "one")
        hidden = g.op("Mul", g.op("Mul", hidden, curve), half)
        out = g.linear(hidden, f"{p}output.dense")
        x = g.layer_norm(g.op("Add", out, x), f"{p}output.LayerNorm")
    # Mean over the tokens, padding left out, then unit length.
    tokens = g.op("Unsqueeze", "mask", g.constant("token_axis", np.array([2], np.int64)))
    length_axis = g.constant("length_axis", np.array([1], np.int64))
    summed = g.op("ReduceSum", g.op("Mul", x, tokens), length_axis, keepdims=0)
    counted = g.op("ReduceSum", "mask", length_axis, keepdims=1)
    g.nodes.append(
        helper.make_node(
            "LpNormalization", [g.op("Div", summed, counted)], ["vector"], axis=-1, p=2
        )
    )
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "length"]),
            helper.make_tensor_value_info("positions", TensorProto.INT64, ["length"]),
        ],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, ["batch", width])],
        g.constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = _IR_VERSION
    return bytes(model.SerializeToString())

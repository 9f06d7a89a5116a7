"""A Keras model config and its weights -> ONNX, without TensorFlow.

The config (from a TF.js model.json or a .h5 file) lists the layers; a functional
model wires them through each layer's `inbound_nodes` (Keras 2 lists or Keras 3
dicts), a Sequential one in list order. `keras_layers.LayerBuilder` writes each
layer; this module walks them in order and adds the model's input and outputs.

The ONNX model keeps Keras's input: NHWC float32, batch first, exactly the values the
Keras model expects (the caller resizes and normalises, e.g. to [0, 1] or [-1, 1]).
The input is transposed to NCHW once at the start and 4-D outputs back once at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from onnx import TensorProto, helper

from openrek.models.convert.keras_layers import KerasConversionError, KerasTensor, LayerBuilder, Weights
from openrek.models.convert.onnx_graph import model_bytes


def _inbound(layer: dict[str, Any]) -> list[str]:
    """The names of the layers feeding `layer` (Keras 2 lists or Keras 3 dicts)."""
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise KerasConversionError(f"layer {layer['name']!r} is shared (called {len(nodes)} times)")
    if not nodes:
        return []
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [... {"config": {"keras_history": [...]}}]}
        return [history[0] for history in _histories(node.get("args", []))]
    names = []
    for entry in node:
        if entry[1] != 0 or entry[2] != 0:
            raise KerasConversionError(f"layer {layer['name']!r} reads a layer's output {entry[1:3]}")
        names.append(entry[0])
    return names


def _histories(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, dict):
        history = (
            value.get("config", {}).get("keras_history")
            if value.get("class_name") == "__keras_tensor__"
            else None
        )
        if history:
            yield history
        else:
            for item in value.values():
                yield from _histories(item)
    elif isinstance(value, list):
        for item in value:
            yield from _histories(item)


def _functional(config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Layers (each with its input layer names), graph inputs and graph outputs."""
    if isinstance(config, dict) and config.get("class_name") in ("Model", "Functional", "Sequential"):
        kind, config = config["class_name"], config["config"]
    else:
        kind = "Sequential" if isinstance(config, list) or "input_layers" not in config else "Model"
    raw_layers = config if isinstance(config, list) else config["layers"]
    layers: list[dict[str, Any]] = []
    if kind == "Sequential":
        previous: str | None = None
        for raw in raw_layers:
            layer: dict[str, Any] = {
                "class_name": raw["class_name"],
                "config": raw["config"],
                "name": raw["config"]["name"],
            }
            if previous is None and raw["class_name"] != "InputLayer":
                shape = raw["config"].get("batch_input_shape") or raw["config"].get("batch_shape")
                layers.append(
                    {
                        "class_name": "InputLayer",
                        "name": "input",
                        "inputs": [],
                        "config": {"batch_input_shape": shape, "name": "input"},
                    }
                )
                previous = "input"
            layer["inputs"] = [previous] if previous else []
            layers.append(layer)
            previous = layer["name"]
        return layers, [layers[0]["name"]], [layers[-1]["name"]]
    for raw in raw_layers:
        if raw["class_name"] in ("Model", "Functional", "Sequential"):
            raise KerasConversionError(f"layer {raw['name']!r} is a nested model, which is not supported")
        layers.append({**raw, "inputs": _inbound(raw)})
    inputs = [entry[0] for entry in config["input_layers"]]
    outputs_raw = config["output_layers"]
    if outputs_raw and isinstance(outputs_raw[0], str):  # a single output written flat
        outputs_raw = [outputs_raw]
    return layers, inputs, [entry[0] for entry in outputs_raw]


def build_onnx(model_config: dict[str, Any], weights: Weights, doc: str = "") -> bytes:
    """A Keras model config plus its weights -> ONNX bytes (NHWC float32 input)."""
    layers, input_names, output_names = _functional(model_config)
    builder = LayerBuilder(weights)
    for layer in layers:
        for source in layer["inputs"]:
            builder.consumers[source] += 1
    for name in output_names:
        builder.consumers[name] += 1
    tensors: dict[str, KerasTensor] = {}
    graph_inputs = []
    for layer in layers:
        name = layer["name"]
        if layer["class_name"] == "InputLayer":
            shape = layer["config"].get("batch_input_shape") or layer["config"].get("batch_shape")
            if not shape or len(shape) != 4 or shape[3] is None:
                raise KerasConversionError(f"input {name!r}: expected an NHWC image input, got {shape}")
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *shape[1:]]))
            nchw = builder.graph.node("Transpose", [name], f"{name}/nchw", perm=[0, 3, 1, 2])
            tensors[name] = KerasTensor(nchw, tuple(shape[1:]))
            continue
        try:
            inputs = [tensors[source] for source in layer["inputs"]]
        except KeyError as missing:
            raise KerasConversionError(
                f"layer {name!r} reads {missing.args[0]!r} before it is defined"
            ) from None
        tensors[name] = builder.layer(layer["class_name"], layer.get("config", {}), inputs, name)
    if [layer["name"] for layer in layers if layer["class_name"] == "InputLayer"] != input_names:
        raise KerasConversionError(f"inputs {input_names} do not match the InputLayers")
    graph_outputs = []
    for name in output_names:
        result = builder.plain(tensors[name])
        source = result.name
        if len(result.shape) == 3:
            source = builder.graph.node("Transpose", [source], f"{name}/nhwc", perm=[0, 2, 3, 1])
        final = builder.graph.node("Identity", [source], f"{name}/output")
        graph_outputs.append(
            helper.make_tensor_value_info(final, TensorProto.FLOAT, ["batch", *result.shape])
        )
    model = builder.graph.model(
        graph_inputs, graph_outputs, graph_name="keras", producer="openrek keras_model", doc=doc
    )
    return model_bytes(model)

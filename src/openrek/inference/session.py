"""Inference sessions: one protocol over onnxruntime and LiteRT (TFLite).

A session is loaded once and shared by concurrent requests. onnxruntime sessions
are thread-safe; a LiteRT interpreter is not, so each thread gets its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class RuntimeSettings:
    """How models run: thread counts and whether the CUDA provider may be used."""

    intra_op_threads: int = 0  # 0: let the runtime pick (one per core)
    inter_op_threads: int = 1
    use_cuda: bool = True


class Session(Protocol):
    input_names: list[str]
    input_shapes: list[tuple[int | str | None, ...]]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]: ...


class OnnxSession:
    def __init__(self, path: Path, settings: RuntimeSettings) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.intra_op_threads
        options.inter_op_num_threads = settings.inter_op_threads
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False
        # onnxruntime's pool threads spin after each parallel section by default, burning
        # a core for a while after every run. In a server that core is wanted elsewhere:
        # the next model of the same request (a LiteRT mesh), another request, the
        # decoder. Measured on DetectFaces over HTTP: server CPU per request 94 -> 55 ms,
        # wall time 90 -> 75 ms on a busy 2-core machine (bench/results/detect_faces.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        available = ort.get_available_providers()
        providers = ["CPUExecutionProvider"]
        if settings.use_cuda and "CUDAExecutionProvider" in available:
            providers.insert(0, "CUDAExecutionProvider")
        self._session = ort.InferenceSession(str(path), options, providers=providers)
        self.providers: list[str] = self._session.get_providers()
        inputs = self._session.get_inputs()
        self.input_names = [i.name for i in inputs]
        self.input_shapes = [tuple(i.shape) for i in inputs]
        self._output_names = [o.name for o in self._session.get_outputs()]

    @property
    def output_names(self) -> list[str]:
        return list(self._output_names)

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return list(self._session.run(self._output_names, inputs))

    def custom_metadata(self) -> dict[str, str]:
        """The model's metadata_props, as onnxruntime already read them with the model
        (no second parse of the file)."""
        return dict(self._session.get_modelmeta().custom_metadata_map)


class TfliteSession:
    """A LiteRT interpreter per thread over one model file (read once)."""

    def __init__(self, path: Path, settings: RuntimeSettings) -> None:
        self._model = path.read_bytes()
        self._threads = settings.intra_op_threads or None
        self._local = threading.local()
        probe = self._interpreter()
        details = probe.get_input_details()
        self.input_names = [d["name"] for d in details]
        self.input_shapes: list[tuple[int | str | None, ...]] = [
            tuple(int(s) for s in d["shape"]) for d in details
        ]
        self.providers = ["LiteRT"]

    def _interpreter(self) -> Any:  # ai_edge_litert ships no type information
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_content=self._model, num_threads=self._threads)
            interpreter.allocate_tensors()
            self._local.interpreter = interpreter
        return interpreter

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        interpreter = self._interpreter()
        for detail in interpreter.get_input_details():
            interpreter.set_tensor(detail["index"], inputs[detail["name"]])
        interpreter.invoke()
        return [interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()]


def model_metadata(session: Session) -> dict[str, str]:
    """The custom metadata of an ONNX model's session (TFLite models carry none we read)."""
    if not isinstance(session, OnnxSession):
        raise TypeError(f"{type(session).__name__} has no ONNX metadata")
    return session.custom_metadata()


def open_session(path: Path, settings: RuntimeSettings) -> Session:
    if path.suffix == ".onnx":
        return OnnxSession(path, settings)
    if path.suffix == ".tflite":
        return TfliteSession(path, settings)
    raise ValueError(f"no runtime for model file {path.name}")

"""The moderation analyser: open_nsfw and nsfwjs on every image, NudeNet when installed.

Each model gets the input its authors fed it (the preprocessing below follows their
published inference code); taxonomy.py turns the outputs into Rekognition labels.
"""

from __future__ import annotations

import ast
import io

import cv2
import numpy as np
from PIL import Image

from openrek.inference.moderation.taxonomy import NSFWJS_CLASSES, Evidence
from openrek.inference.session import RuntimeSettings, Session, model_metadata, open_session
from openrek.models.store import ModelStore

REQUIRED_MODELS = ("moderation-open-nsfw", "moderation-nsfwjs")
NUDENET_MODEL = "moderation-nudenet-320n"

OPEN_NSFW_MEAN_BGR = np.array([104.0, 117.0, 123.0], np.float32)  # Caffe training mean
NSFWJS_SIZE = 224
NUDENET_SIZE = 320
NUDENET_MIN_SCORE = 0.2  # NudeNet's own cut-off for a region


def open_nsfw_input(rgb: np.ndarray) -> np.ndarray:
    """Yahoo's reference pipeline: squash to 256x256 (bilinear), JPEG round trip (the
    scores were calibrated on JPEG-decoded pixels), centre 224x224 crop, BGR minus
    the training mean. NHWC float32, batch of one."""
    resized = Image.fromarray(rgb).resize((256, 256), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    resized.save(buffer, format="JPEG")
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), np.float32)
    crop = decoded[16:240, 16:240, ::-1] - OPEN_NSFW_MEAN_BGR
    return np.ascontiguousarray(crop[None])


def nsfwjs_input(rgb: np.ndarray) -> np.ndarray:
    """nsfwjs's `infer`: pixels / 255, then TF's bilinear resize with aligned corners to
    224x224 (the whole image, squashed). NHWC float32, batch of one."""
    height, width = rgb.shape[:2]
    ys = np.linspace(0.0, height - 1.0, NSFWJS_SIZE) if height > 1 else np.zeros(NSFWJS_SIZE)
    xs = np.linspace(0.0, width - 1.0, NSFWJS_SIZE) if width > 1 else np.zeros(NSFWJS_SIZE)
    y0, x0 = np.floor(ys).astype(np.intp), np.floor(xs).astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]

    def sample(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:  # only the pixels used
        return np.asarray(rgb[rows][:, cols].astype(np.float32) / 255.0)

    top = sample(y0, x0) * (1 - wx) + sample(y0, x1) * wx
    bottom = sample(y1, x0) * (1 - wx) + sample(y1, x1) * wx
    return np.ascontiguousarray((top * (1 - wy) + bottom * wy)[None], dtype=np.float32)


def nudenet_input(rgb: np.ndarray) -> np.ndarray:
    """NudeNet's `_read_image`: the image padded right / bottom to a square with black,
    at 320x320 (bilinear), RGB / 255. NCHW float32, batch of one. Scaled first, then
    padded: the same picture without a full-size square in memory."""
    height, width = rgb.shape[:2]
    scale = NUDENET_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)  # as NudeNet and its training
    square = np.zeros((NUDENET_SIZE, NUDENET_SIZE, 3), np.uint8)
    square[: size[1], : size[0]] = resized
    return np.ascontiguousarray(square.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


class Moderator:
    def __init__(
        self,
        open_nsfw: Session,
        nsfwjs: Session,
        nudenet: Session | None = None,
        nudenet_classes: list[str] | None = None,
    ) -> None:
        self.open_nsfw = open_nsfw
        self.nsfwjs = nsfwjs
        self.nudenet = nudenet
        self.nudenet_classes = nudenet_classes or []

    def open_nsfw_score(self, rgb: np.ndarray) -> float:
        (probabilities,) = self.open_nsfw.run({self.open_nsfw.input_names[0]: open_nsfw_input(rgb)})
        return float(probabilities[0, 1])  # columns: SFW, NSFW

    def nsfwjs_scores(self, rgb: np.ndarray) -> dict[str, float]:
        (probabilities,) = self.nsfwjs.run({self.nsfwjs.input_names[0]: nsfwjs_input(rgb)})
        return {name: float(p) for name, p in zip(NSFWJS_CLASSES, probabilities[0], strict=True)}

    def nudenet_regions(self, rgb: np.ndarray) -> dict[str, float]:
        """NudeNet class -> best score of the anchors that chose it (NudeNet keeps an
        anchor's best class only, from 0.2 up); boxes are not needed for labels."""
        if self.nudenet is None:
            return {}
        (output,) = self.nudenet.run({self.nudenet.input_names[0]: nudenet_input(rgb)})
        class_scores = output[0, 4:].T  # anchors x classes
        best_class = class_scores.argmax(axis=1)
        best_score = class_scores.max(axis=1)
        regions: dict[str, float] = {}
        for index, name in enumerate(self.nudenet_classes):
            chosen = best_score[(best_class == index) & (best_score >= NUDENET_MIN_SCORE)]
            if chosen.size:
                regions[name] = float(chosen.max())
        return regions

    def evidence(self, rgb: np.ndarray) -> Evidence:
        return Evidence(self.open_nsfw_score(rgb), self.nsfwjs_scores(rgb), self.nudenet_regions(rgb))


def _nudenet_classes(session: Session) -> list[str]:
    """The class names the ONNX file's metadata lists ("{0: 'NAME', ...}")."""
    names = ast.literal_eval(model_metadata(session)["names"])
    return [names[index] for index in sorted(names)]


def build_moderator(store: ModelStore, runtime: RuntimeSettings) -> Moderator:
    store.verify(REQUIRED_MODELS)

    def session(name: str) -> Session:
        return open_session(store.path(name), runtime)

    nudenet, classes = None, None
    if store.path(NUDENET_MODEL).exists():  # opt-in: `openrek models pull --include ...`
        store.verify([NUDENET_MODEL])
        nudenet = session(NUDENET_MODEL)
        classes = _nudenet_classes(nudenet)
    return Moderator(session("moderation-open-nsfw"), session("moderation-nsfwjs"), nudenet, classes)

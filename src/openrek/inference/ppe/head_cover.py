"""HEAD_COVER: a helmet on the head, from an ImageNet classifier run on the head.

No helmet or hard-hat detector with a licence that allows commercial use ships in
the registries. The ImageNet-1k classifier openrek uses for labels has three
helmet classes (WordNet 3.0 ids below): its probability mass on them, for a crop
around the head, is the helmet's confidence. ImageNet has no hard-hat class: a
construction hard hat is found only in so far as the classifier calls it one of
these. Hats and caps are not protective equipment (Rekognition's head covers are
"hard hats and helmets") and are not counted.

Because nothing measures how many real helmets this misses, a head without a
helmet found is never taken as proof of a bare head: the inspector lists
HEAD_COVER among the types it can confirm but not rule out (see summary.py).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

HELMET_WNIDS = (
    "n03127747",  # crash helmet
    "n03379051",  # football helmet
    "n03929855",  # pickelhaube
)
# The head crop is the head box grown by this fraction on each side: a helmet's
# brim and the shoulders below give the classifier the context it was trained on.
CROP_MARGIN = 0.25


class ImageClassifier(Protocol):
    wnids: list[str]

    def probabilities_batch(self, crops: list[np.ndarray], crop_fraction: float = ...) -> np.ndarray: ...


def head_crop(image_rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    height, width = image_rgb.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * (1 + 2 * CROP_MARGIN)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    if right - left < 16 or bottom - top < 16:
        return None
    return np.ascontiguousarray(image_rgb[top:bottom, left:right])


class HelmetClassifier:
    def __init__(self, classifier: ImageClassifier) -> None:
        self._classifier = classifier
        index = {wnid: i for i, wnid in enumerate(classifier.wnids)}
        missing = [w for w in HELMET_WNIDS if w not in index]
        if missing:
            raise ValueError(f"the image classifier lacks the helmet classes {missing}")
        self._helmets = np.array([index[w] for w in HELMET_WNIDS])

    def probabilities(self, image_rgb: np.ndarray, head_boxes: list[np.ndarray]) -> np.ndarray:
        """P(a helmet is on the head) for each head box: the classifier's mass on the
        helmet classes, (n,) float32; 0 for a head too small to classify."""
        crops = [head_crop(image_rgb, box) for box in head_boxes]
        usable = [c for c in crops if c is not None]
        result = np.zeros(len(crops), np.float32)
        if usable:
            # The crops are already squares around the heads: classify all of each.
            mass = self._classifier.probabilities_batch(usable, 1.0)[:, self._helmets].sum(axis=1)
            result[[i for i, c in enumerate(crops) if c is not None]] = np.clip(mass, 0.0, 1.0)
        return result

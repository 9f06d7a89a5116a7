"""Object detection head: every grid-aligned window of the backbone's feature map,
scored by a linear model over what is inside it and what surrounds it.

The image is squashed to 448x448; the backbone's last feature map then has 14x14
cells of 32x32 pixels. A window is any rectangle of whole cells (aspect up to 4:1).
Its features are the mean of the cells inside it and the mean of the ring of cells
around it (one cell wide), each reduced to 128 numbers by a PCA fitted on the
training cells, plus its log width and height. Inside-and-ring is what makes the
right-sized window win: a window too small has object in its ring, one too large
has background inside.

The model is a multinomial logistic regression with a background class, trained
on windows overlapping a labelled box by IoU 0.6 or more (that box's label) and
windows overlapping every box by less than 0.4 (background). Because the model is
linear and the features are means, each class's score of every window comes from
two integral images of per-cell scores: all ~8,000 windows of an image are scored in
a few milliseconds after the one backbone run (about 110 ms on 2 cores).

Boxes are as fine as the grid: a cell is 1/14 of the image's side, so objects
smaller than about 2 cells (1/7 of the side) are missed; say so in the docs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIDE = 448
GRID = SIDE // 32
COMPONENTS = 128
MAX_ASPECT = 4
POSITIVE_IOU, NEGATIVE_IOU = 0.6, 0.4
NEGATIVES_PER_IMAGE = 64
NMS_IOU = 0.3
COVERED = 0.6  # a box this much inside a surer one is a part of the same object
MIN_SCORE = 0.05  # windows below this are never reported, whatever MinConfidence asks
REGULARISATION = 0.05  # 0.5 and 0.01 measured too: 0.5 saturates at 100% on background; 0.05 ranks best


def windows(grid: int = GRID) -> np.ndarray:
    """(W, 4) int windows x0, y0, x1, y1 in cells (x1, y1 exclusive)."""
    spans = [(a, b) for a in range(grid) for b in range(a + 1, grid + 1)]
    found = [
        (x0, y0, x1, y1)
        for x0, x1 in spans
        for y0, y1 in spans
        if max(x1 - x0, y1 - y0) <= MAX_ASPECT * min(x1 - x0, y1 - y0)
    ]
    return np.array(found, dtype=np.int64)


WINDOWS = windows()


def _integral(maps: np.ndarray) -> np.ndarray:
    """(G, G, C) -> (G+1, G+1, C) summed-area table."""
    table = np.zeros((maps.shape[0] + 1, maps.shape[1] + 1, maps.shape[2]), dtype=np.float64)
    table[1:, 1:] = maps.cumsum(0).cumsum(1)
    return table


def _box_sums(table: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = boxes.T
    return np.asarray(table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0])


def _rings(boxes: np.ndarray, grid: int) -> np.ndarray:
    return np.stack(
        [
            np.maximum(boxes[:, 0] - 1, 0),
            np.maximum(boxes[:, 1] - 1, 0),
            np.minimum(boxes[:, 2] + 1, grid),
            np.minimum(boxes[:, 3] + 1, grid),
        ],
        axis=1,
    )


def _areas(boxes: np.ndarray) -> np.ndarray:
    return np.asarray((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), dtype=np.float64)


def window_features(cells: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(len(boxes), 2C + 2): inner mean, ring mean, log width and height (fractions of the grid)."""
    grid = cells.shape[0]
    table = _integral(cells)
    inner_area = _areas(boxes)
    outer = _rings(boxes, grid)
    inner = _box_sums(table, boxes)
    ring_area = _areas(outer) - inner_area
    ring = (_box_sums(table, outer) - inner) / np.maximum(ring_area, 1)[:, None]
    shape = np.log(np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1) / grid)
    return np.concatenate([inner / inner_area[:, None], ring, shape], axis=1)


def iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """IoU of each row of `boxes` with `box`, all as x0, y0, x1, y1 in any one unit."""
    left = np.maximum(boxes[:, 0], box[0])
    top = np.maximum(boxes[:, 1], box[1])
    right = np.minimum(boxes[:, 2], box[2])
    bottom = np.minimum(boxes[:, 3], box[3])
    overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (box[2] - box[0]) * (box[3] - box[1])
    return np.asarray(overlap / np.maximum(union - overlap, 1e-9))


@dataclass(frozen=True)
class Detection:
    label: str
    confidence: float  # 0-1
    box: tuple[float, float, float, float]  # left, top, right, bottom as fractions of the image


@dataclass
class DetectionHead:
    labels: list[str]  # class k+1 of the model; class 0 is background
    projection_mean: np.ndarray  # (1280,)
    projection: np.ndarray  # (1280, COMPONENTS)
    mean: np.ndarray  # (2*COMPONENTS+2,) standardisation of window features
    scale: np.ndarray
    coef: np.ndarray  # (K+1, 2*COMPONENTS+2)
    intercept: np.ndarray  # (K+1,)

    def reduce(self, cells: np.ndarray) -> np.ndarray:
        return np.asarray((cells - self.projection_mean) @ self.projection)

    def detect(self, cells: np.ndarray) -> list[Detection]:
        """Every window's class probabilities in closed form, then per-label NMS."""
        reduced = self.reduce(cells)
        grid = reduced.shape[0]
        boxes = WINDOWS if grid == GRID else windows(grid)
        weights = self.coef / self.scale  # standardisation folded into the weights
        bias = self.intercept - weights @ self.mean
        half = COMPONENTS
        inner_scores = _integral(reduced @ weights[:, :half].T)
        ring_scores = _integral(reduced @ weights[:, half : 2 * half].T)
        inner_area = _areas(boxes)
        outer = _rings(boxes, grid)
        inner_sum = _box_sums(inner_scores, boxes)
        ring_sum = _box_sums(ring_scores, outer) - _box_sums(ring_scores, boxes)
        ring_area = np.maximum(_areas(outer) - inner_area, 1)
        shape = np.log(np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1) / grid)
        logits = (
            inner_sum / inner_area[:, None]
            + ring_sum / ring_area[:, None]
            + shape @ weights[:, 2 * half :].T
            + bias
        )
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        found: list[Detection] = []
        fractions = boxes.astype(np.float64) / grid
        for k, label in enumerate(self.labels, start=1):
            scores = probabilities[:, k]
            keep = np.flatnonzero(scores >= MIN_SCORE)
            for index in _nms(fractions[keep], scores[keep]):
                x0, y0, x1, y1 = fractions[keep[index]]
                found.append(Detection(label, float(scores[keep[index]]), (x0, y0, x1, y1)))
        found.sort(key=lambda d: -d.confidence)
        return _across_labels(found)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "projection_mean": self.projection_mean,
            "projection": self.projection,
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
        }


def _covered(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The fraction of each of `boxes`, or of `box` if smaller, that their overlap covers."""
    left = np.maximum(boxes[:, 0], box[0])
    top = np.maximum(boxes[:, 1], box[1])
    right = np.minimum(boxes[:, 2], box[2])
    bottom = np.minimum(boxes[:, 3], box[3])
    overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    smaller = np.minimum(
        (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), (box[2] - box[0]) * (box[3] - box[1])
    )
    return np.asarray(overlap / np.maximum(smaller, 1e-9))


def _across_labels(found: list[Detection]) -> list[Detection]:
    """One object, one label: a box overlapping a surer box of another label by IoU 0.5 is dropped."""
    kept: list[Detection] = []
    for detection in found:
        box = np.array(detection.box)
        if all(iou(np.array([other.box]), box)[0] < 0.5 for other in kept):
            kept.append(detection)
    return kept


def _nms(boxes: np.ndarray, scores: np.ndarray, limit: int = 50) -> list[int]:
    order = list(np.argsort(-scores))
    kept: list[int] = []
    while order and len(kept) < limit:
        best = order.pop(0)
        kept.append(best)
        if order:
            rest = np.array(order)
            # A part of a surer box (a window on half the object) goes too, though its IoU is small.
            apart = (iou(boxes[rest], boxes[best]) < NMS_IOU) & (_covered(boxes[rest], boxes[best]) < COVERED)
            order = [int(i) for i in rest[apart]]
    return kept


@dataclass
class BoxedImage:
    cells: np.ndarray  # (G, G, 1280) feature map
    boxes: list[tuple[str, tuple[float, float, float, float]]]  # label, fractions x0, y0, x1, y1


def training_windows(
    image: BoxedImage, labels: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into WINDOWS and their classes (0 background) to train on."""
    grid = image.cells.shape[0]
    boxes = WINDOWS.astype(np.float64) / grid
    best_iou = np.zeros(len(boxes))
    best_class = np.zeros(len(boxes), dtype=np.int64)
    for label, box in image.boxes:
        overlap = iou(boxes, np.array(box))
        better = overlap > best_iou
        best_iou[better] = overlap[better]
        best_class[better] = labels.index(label) + 1
    positives = np.flatnonzero(best_iou >= POSITIVE_IOU)
    if not len(positives) and image.boxes:
        # A box between grid lines: its closest windows stand for it.
        positives = np.flatnonzero(best_iou >= best_iou.max() - 1e-9)
    negatives = np.flatnonzero(best_iou < NEGATIVE_IOU)
    # Half the negatives from near misses (they teach where a box ends), half anywhere.
    near = negatives[best_iou[negatives] > 0.1]
    take_near = rng.choice(near, min(len(near), NEGATIVES_PER_IMAGE // 2), replace=False)
    take_any = rng.choice(negatives, min(len(negatives), NEGATIVES_PER_IMAGE // 2), replace=False)
    chosen = np.concatenate([positives, take_near, take_any])
    classes = np.where(np.isin(chosen, positives), best_class[chosen], 0)
    return chosen, classes


def train_detector(images: list[BoxedImage], labels: list[str], seed: int = 0) -> DetectionHead:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    all_cells = np.concatenate([image.cells.reshape(-1, image.cells.shape[-1]) for image in images])
    components = min(COMPONENTS, all_cells.shape[0] - 1, all_cells.shape[1])
    pca = PCA(n_components=components, random_state=seed).fit(all_cells)
    projection = np.zeros((all_cells.shape[1], COMPONENTS), dtype=np.float64)
    projection[:, :components] = pca.components_.T
    projection_mean = np.asarray(pca.mean_, dtype=np.float64)
    rows, targets = [], []
    for image in images:
        reduced = (image.cells - projection_mean) @ projection
        chosen, classes = training_windows(image, labels, rng)
        rows.append(window_features(reduced, WINDOWS[chosen]))
        targets.append(classes)
    features, target = np.concatenate(rows), np.concatenate(targets)
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-3
    model = LogisticRegression(C=REGULARISATION, max_iter=3000).fit((features - mean) / scale, target)
    coef = np.zeros((len(labels) + 1, features.shape[1]))
    intercept = np.full(len(labels) + 1, -30.0)  # a class with no training windows is never chosen
    if model.coef_.shape[0] == 1:
        # Two classes (background and one label): sklearn keeps one row, the label's log-odds.
        coef[model.classes_[1]], intercept[model.classes_[0]] = model.coef_[0], 0.0
        intercept[model.classes_[1]] = model.intercept_[0]
    else:
        coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    return DetectionHead(labels, projection_mean, projection, mean, scale, coef, intercept)

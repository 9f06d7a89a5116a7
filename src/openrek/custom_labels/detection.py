"""Object detection head: windows of the backbone's feature maps at two image scales,
scored by a linear model over what is inside each window and what surrounds it, then
moved to the object's edges by a linear box regression.

Scales (a pyramid). The image is squashed to 448x448 and to 896x896; the backbone's
last feature map then has 14x14 and 28x28 cells of 32x32 pixels. At 448 a window is
any rectangle of whole cells; at 896 only rectangles up to SMALL_CELLS a side, so the
finer map serves small objects (a face in a group photo is about 1/10 of the side:
1.4 cells at 448, 2.8 at 896) and large objects are read from the coarse map. Both
scales share one model: a window's features describe the same fraction of the image
whatever the scale, and its log size (a fraction of the image) says which it is.

Features. The mean of the cells inside the window and the mean of the ring of cells
around it (one cell wide), each reduced to 128 numbers by a PCA fitted on the
training cells, plus its log width and height. Inside-and-ring is what makes the
right-sized window win: a window too small has object in its ring, one too large
has background inside.

Scores. A multinomial logistic regression with a background class, trained on
windows overlapping a labelled box by IoU 0.6 or more (that box's label) and windows
overlapping every box by less than 0.4 (background), then trained again with the
background windows the first model scored highest on the training images added
(hard negatives: 4-fold CV AP on the training faces 0.54 with them, 0.22 without; on
fruit scenes they cost a little, 0.95 against 0.98). Because the model is linear and
the features are means, each class's score of every window comes from two integral
images of per-cell scores: all ~42,000 windows of an image are scored in about 30 ms
after the backbone runs.

Boxes. Windows are whole cells, so a window is at best a cell off the object's edges
(a cell is 1/28 of the side at the fine scale). A ridge regression over the same
window features predicts how far each edge of the object lies from the window's edge
(in window widths and heights); it is trained on windows at IoU 0.45 or more with a
box and applied to the windows that survive scoring, before NMS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

SIDE = 448  # the coarse scale; version files from before the pyramid read this one only
SIDES = (448, 896)
SMALL_CELLS = 8  # the fine scale's windows are at most this many cells a side
COMPONENTS = 128
MAX_ASPECT = 4
POSITIVE_IOU, NEGATIVE_IOU = 0.6, 0.4
REGRESSION_IOU = 0.45
NEGATIVES_PER_IMAGE = 64
HARD_NEGATIVES_PER_IMAGE = 24
NMS_IOU = 0.3
COVERED = 0.6  # a box this much inside a surer one is a part of the same object
MIN_SCORE = 0.05  # windows below this are never reported, whatever MinConfidence asks
REGULARISATION = 0.05  # 0.5 and 0.01 measured too: 0.5 saturates at 100% on background; 0.05 ranks best
# Ridge strength, by 4-fold CV on the training faces: at 100 and 1,000 the offsets moved
# held-out windows off faces; at 10,000 windows at IoU >= 0.5 went from 65% to 88%
# (100,000 hardly moves a box). Window AP did not tell them apart (29 faces).
RIDGE = 10_000.0

FeatureMap = Callable[[np.ndarray, int], np.ndarray]  # (rgb, side) -> (side/32, side/32, C)


def windows(grid: int, max_cells: int | None = None) -> np.ndarray:
    """(W, 4) int windows x0, y0, x1, y1 in cells (x1, y1 exclusive), at most `max_cells` a side."""
    longest = grid if max_cells is None else max_cells
    spans = [(a, b) for a in range(grid) for b in range(a + 1, min(grid, a + longest) + 1)]
    found = [
        (x0, y0, x1, y1)
        for x0, x1 in spans
        for y0, y1 in spans
        if max(x1 - x0, y1 - y0) <= MAX_ASPECT * min(x1 - x0, y1 - y0)
    ]
    return np.array(found, dtype=np.int64)


_WINDOWS: dict[tuple[int, int | None], np.ndarray] = {}


def scale_windows(side: int, sides: tuple[int, ...]) -> np.ndarray:
    """The windows read at `side` when the head reads `sides`: all windows at the coarsest
    scale, small ones at finer scales."""
    key = (side // 32, None if side == min(sides) else SMALL_CELLS)
    if key not in _WINDOWS:
        _WINDOWS[key] = windows(*key)
    return _WINDOWS[key]


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


def _log_shape(boxes: np.ndarray, grid: int) -> np.ndarray:
    return np.log(np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1) / grid)


def window_features(cells: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(len(boxes), 2C + 2): inner mean, ring mean, log width and height (fractions of the grid)."""
    grid = cells.shape[0]
    table = _integral(cells)
    inner_area = _areas(boxes)
    outer = _rings(boxes, grid)
    inner = _box_sums(table, boxes)
    ring_area = _areas(outer) - inner_area
    ring = (_box_sums(table, outer) - inner) / np.maximum(ring_area, 1)[:, None]
    return np.concatenate([inner / inner_area[:, None], ring, _log_shape(boxes, grid)], axis=1)


def iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """IoU of each row of `boxes` with `box`, all as x0, y0, x1, y1 in any one unit."""
    left = np.maximum(boxes[:, 0], box[0])
    top = np.maximum(boxes[:, 1], box[1])
    right = np.minimum(boxes[:, 2], box[2])
    bottom = np.minimum(boxes[:, 3], box[3])
    overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (box[2] - box[0]) * (box[3] - box[1])
    return np.asarray(overlap / np.maximum(union - overlap, 1e-9))


def _refined(fractions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Windows (fractions) moved by regressed edge offsets (in window widths / heights)."""
    size = np.concatenate([fractions[:, 2:] - fractions[:, :2]] * 2, axis=1)
    moved = np.clip(fractions + offsets * size, 0.0, 1.0)
    # An edge regressed past its opposite edge keeps the window's own edges instead.
    bad = (moved[:, 2] <= moved[:, 0]) | (moved[:, 3] <= moved[:, 1])
    moved[bad] = fractions[bad]
    return np.asarray(moved)


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
    # Absent from version files written before the pyramid: one scale, no box regression.
    sides: np.ndarray = field(default_factory=lambda: np.array([SIDE]))
    box_coef: np.ndarray | None = None  # (2*COMPONENTS+2, 4) edge offsets from standardised features
    box_intercept: np.ndarray | None = None  # (4,)

    @property
    def scales(self) -> tuple[int, ...]:
        return tuple(int(side) for side in self.sides)

    def reduce(self, cells: np.ndarray) -> np.ndarray:
        return np.asarray((cells - self.projection_mean) @ self.projection)

    def detect_image(self, feature_map: FeatureMap, rgb: np.ndarray) -> list[Detection]:
        return self.detect([feature_map(rgb, side) for side in self.scales])

    def _linear_maps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every linear output over window features (K+1 class logits, then 4 edge offsets
        when the head regresses boxes), as per-cell weights on the raw 1280-channel map.

        A window's features are means of PCA-reduced cells and the outputs are linear in
        them, so the PCA and the standardisation fold into (1280, outputs) matrices for the
        inside and the ring: scoring needs no reduced map at all."""
        weights = self.coef / self.scale  # (K+1, D): standardisation folded into the weights
        bias = self.intercept - weights @ self.mean
        if self.box_coef is not None and self.box_intercept is not None:
            box_weights = (self.box_coef / self.scale[:, None]).T  # (4, D)
            weights = np.concatenate([weights, box_weights])
            bias = np.concatenate([bias, self.box_intercept - box_weights @ self.mean])
        half = COMPONENTS
        inner = self.projection @ weights[:, :half].T
        ring = self.projection @ weights[:, half : 2 * half].T
        return inner, ring, weights[:, 2 * half :], bias

    def _window_outputs(self, cells: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(len(boxes), outputs) of windows of one raw feature map, from integral images."""
        grid = cells.shape[0]
        inner_weights, ring_weights, shape_weights, bias = self._linear_maps()
        centred = cells.reshape(-1, cells.shape[-1]) - self.projection_mean
        inner_scores = _integral((centred @ inner_weights).reshape(grid, grid, -1))
        ring_scores = _integral((centred @ ring_weights).reshape(grid, grid, -1))
        inner_area = _areas(boxes)
        outer = _rings(boxes, grid)
        inner_sum = _box_sums(inner_scores, boxes)
        ring_sum = _box_sums(ring_scores, outer) - _box_sums(ring_scores, boxes)
        ring_area = np.maximum(_areas(outer) - inner_area, 1)
        return np.asarray(
            inner_sum / inner_area[:, None]
            + ring_sum / ring_area[:, None]
            + _log_shape(boxes, grid) @ shape_weights.T
            + bias
        )

    def window_probabilities(self, cells: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(len(boxes), K+1) class probabilities of windows of one raw feature map."""
        logits = self._window_outputs(cells, boxes)[:, : len(self.labels) + 1]
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return np.asarray(probabilities)

    def detect(self, maps: list[np.ndarray]) -> list[Detection]:
        """Every window's class probabilities at every scale, boxes regressed, then per-label NMS."""
        classes = len(self.labels) + 1
        scored, placed = [], []
        for cells in maps:
            grid = cells.shape[0]
            boxes = scale_windows(grid * 32, self.scales)
            outputs = self._window_outputs(cells, boxes)
            logits = outputs[:, :classes] - outputs[:, :classes].max(axis=1, keepdims=True)
            probabilities = np.exp(logits)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            keep = np.flatnonzero(probabilities[:, 1:].max(axis=1) >= MIN_SCORE)
            fractions = boxes[keep].astype(np.float64) / grid
            if outputs.shape[1] > classes:
                fractions = _refined(fractions, outputs[keep, classes:])
            scored.append(probabilities[keep])
            placed.append(fractions)
        probabilities = np.concatenate(scored) if scored else np.zeros((0, classes))
        fractions = np.concatenate(placed) if placed else np.zeros((0, 4))
        found: list[Detection] = []
        for k, label in enumerate(self.labels, start=1):
            scores = probabilities[:, k]
            keep = np.flatnonzero(scores >= MIN_SCORE)
            for index in _nms(fractions[keep], scores[keep]):
                x0, y0, x1, y1 = fractions[keep[index]]
                found.append(Detection(label, float(scores[keep[index]]), (x0, y0, x1, y1)))
        found.sort(key=lambda d: -d.confidence)
        return _across_labels(found)

    def arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "projection_mean": self.projection_mean,
            "projection": self.projection,
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
            "sides": self.sides,
        }
        if self.box_coef is not None and self.box_intercept is not None:
            arrays["box_coef"], arrays["box_intercept"] = self.box_coef, self.box_intercept
        return arrays


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
    maps: list[np.ndarray]  # (G, G, 1280) feature map per scale, in SIDES order
    boxes: list[tuple[str, tuple[float, float, float, float]]]  # label, fractions x0, y0, x1, y1


@dataclass
class _Overlaps:
    """Each window's best IoU with a true box at one scale, and that box."""

    best_iou: np.ndarray
    best_class: np.ndarray  # 0 where no box
    best_box: np.ndarray  # (W, 4) fractions


def _overlaps(image: BoxedImage, windows_at: np.ndarray, grid: int, labels: list[str]) -> _Overlaps:
    fractions = windows_at.astype(np.float64) / grid
    best_iou = np.zeros(len(fractions))
    best_class = np.zeros(len(fractions), dtype=np.int64)
    best_box = np.zeros((len(fractions), 4))
    for label, box in image.boxes:
        overlap = iou(fractions, np.array(box))
        better = overlap > best_iou
        best_iou[better] = overlap[better]
        best_class[better] = labels.index(label) + 1
        best_box[better] = box
    return _Overlaps(best_iou, best_class, best_box)


def training_windows(
    overlaps: list[_Overlaps], rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per scale: indices into that scale's windows and their classes (0 background)."""
    top = max((float(o.best_iou.max()) for o in overlaps if len(o.best_iou)), default=0.0)
    chosen_at = []
    for o in overlaps:
        positives = np.flatnonzero(o.best_iou >= POSITIVE_IOU)
        if top < POSITIVE_IOU and top > 0:
            # A box between grid lines at every scale: its closest windows stand for it.
            positives = np.flatnonzero(o.best_iou >= top - 1e-9)
        negatives = np.flatnonzero(o.best_iou < NEGATIVE_IOU)
        # Half the negatives from near misses (they teach where a box ends), half anywhere.
        near = negatives[o.best_iou[negatives] > 0.1]
        take_near = rng.choice(near, min(len(near), NEGATIVES_PER_IMAGE // 2), replace=False)
        take_any = rng.choice(negatives, min(len(negatives), NEGATIVES_PER_IMAGE // 2), replace=False)
        chosen = np.unique(np.concatenate([positives, take_near, take_any]))
        classes = np.where(o.best_iou[chosen] >= min(POSITIVE_IOU, top), o.best_class[chosen], 0)
        chosen_at.append((chosen, classes))
    return chosen_at


def _fit_classes(features: np.ndarray, target: np.ndarray, labels: list[str]) -> tuple[np.ndarray, ...]:
    from sklearn.linear_model import LogisticRegression

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
    return mean, scale, coef, intercept


def _edge_offsets(fractions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    size = np.concatenate([fractions[:, 2:] - fractions[:, :2]] * 2, axis=1)
    return np.asarray((targets - fractions) / size)


def train_detector(
    images: list[BoxedImage],
    labels: list[str],
    seed: int = 0,
    sides: tuple[int, ...] = SIDES,
    hard_negatives: int = HARD_NEGATIVES_PER_IMAGE,
    box_regression: bool = True,
) -> DetectionHead:
    """`images` carry one feature map per side in `sides`. sides=(448,), hard_negatives=0,
    box_regression=False is the detector before the pyramid (the bench's baseline)."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread: training runs beside the server's request threads, and OpenBLAS's
    # spinning workers made the PCA projection of a 28x28 map take 1.2 s instead of 25 ms
    # on a busy 2-core machine (measured).
    with threadpool_limits(limits=1, user_api="blas"):
        return _train_detector(images, labels, seed, sides, hard_negatives, box_regression)


def _train_detector(
    images: list[BoxedImage],
    labels: list[str],
    seed: int,
    sides: tuple[int, ...],
    hard_negatives: int,
    box_regression: bool,
) -> DetectionHead:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(seed)
    all_cells = np.concatenate(
        [cells.reshape(-1, cells.shape[-1]) for image in images for cells in image.maps]
    )
    if len(all_cells) > 20_000:  # the PCA needs the cells' spread, not every cell
        all_cells = all_cells[rng.choice(len(all_cells), 20_000, replace=False)]
    components = min(COMPONENTS, all_cells.shape[0] - 1, all_cells.shape[1])
    pca = PCA(n_components=components, random_state=seed).fit(all_cells)
    projection = np.zeros((all_cells.shape[1], COMPONENTS), dtype=np.float64)
    projection[:, :components] = pca.components_.T
    projection_mean = np.asarray(pca.mean_, dtype=np.float64)
    reduced = [[(cells - projection_mean) @ projection for cells in image.maps] for image in images]
    at_scale = [scale_windows(side, sides) for side in sides]
    overlaps = [
        [_overlaps(image, at_scale[s], maps[s].shape[0], labels) for s in range(len(sides))]
        for image, maps in zip(images, reduced, strict=True)
    ]
    rows, targets, boxes_rows, box_targets = [], [], [], []
    for maps, image_overlaps in zip(reduced, overlaps, strict=True):
        for s, (chosen, classes) in enumerate(training_windows(image_overlaps, rng)):
            rows.append(window_features(maps[s], at_scale[s][chosen]))
            targets.append(classes)
        for s, o in enumerate(image_overlaps):
            near = np.flatnonzero(o.best_iou >= REGRESSION_IOU)
            grid = maps[s].shape[0]
            boxes_rows.append(window_features(maps[s], at_scale[s][near]))
            box_targets.append(_edge_offsets(at_scale[s][near].astype(np.float64) / grid, o.best_box[near]))
    features, target = np.concatenate(rows), np.concatenate(targets)
    mean, scale, coef, intercept = _fit_classes(features, target, labels)
    if hard_negatives:
        # Hard negatives: the background windows the first model likes best, a few an image.
        first = DetectionHead(
            labels, projection_mean, projection, mean, scale, coef, intercept, np.array(sides)
        )
        for index, (maps, image_overlaps) in enumerate(zip(reduced, overlaps, strict=True)):
            for s, o in enumerate(image_overlaps):
                probabilities = first.window_probabilities(images[index].maps[s], at_scale[s])
                background = np.flatnonzero(o.best_iou < NEGATIVE_IOU)
                worst = background[np.argsort(-probabilities[background, 1:].max(axis=1))]
                hard = worst[:hard_negatives]
                rows.append(window_features(maps[s], at_scale[s][hard]))
                targets.append(np.zeros(len(hard), dtype=np.int64))
        features, target = np.concatenate(rows), np.concatenate(targets)
        mean, scale, coef, intercept = _fit_classes(features, target, labels)
    regression_features = np.concatenate(boxes_rows)
    box_coef: np.ndarray | None = None
    box_intercept: np.ndarray | None = None
    if box_regression and len(regression_features) >= 8:
        ridge = Ridge(alpha=RIDGE).fit((regression_features - mean) / scale, np.concatenate(box_targets))
        box_coef, box_intercept = np.asarray(ridge.coef_.T), np.asarray(ridge.intercept_)
    return DetectionHead(
        labels,
        projection_mean,
        projection,
        mean,
        scale,
        coef,
        intercept,
        np.array(sides),
        box_coef,
        box_intercept,
    )

"""Accuracy of openrek's Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded.

For every hand-labelled face in tests/data/face_labels.json (the real photos in
`.cache/eval-data/`, fetched by `python tools/eval_data.py`), the five points come from
OpenCV's YuNet (`cv2.FaceDetectorYN`, the same model file the product runs through its
own decoder; taken from the model store, `openrek models pull`), matched to the label by
IoU >= 0.5, and `openrek.inference.faces.appearance` measures the face.

Printed per attribute, at probability 0.5: labelled faces (null labels left out),
positives, accuracy, precision, recall; three tables:

1. in-sample: the curves shipped in appearance.py, which were fitted on these same faces;
2. leave-one-photo-out: each photo's faces scored by curves refitted without that photo
   (and without the masked copies made from it), which is the honest estimate;
3. masked copies: the evaluation set has almost no occluded faces, so every colour face
   is also scored with each of insightface's four mask textures (insightface ships them,
   beside the photos, for exactly this augmentation) pasted over nose, mouth and chin.

`--fit` refits the curves on everything and prints them for appearance.CURVES. Each fit
is a maximum a posteriori logistic regression: class-balanced log-loss plus a Gaussian
prior on the midpoint and on log(scale), PRIORS below. With no or one positive face in
the labels (beard, mustache, eyeglasses, sunglasses here) the prior is what holds the
curve; the data then only pushes the midpoint above the bare faces.

Run: python bench/appearance_accuracy.py [--fit]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

from openrek.config import Settings
from openrek.inference.faces import appearance
from openrek.inference.faces.appearance import CURVES, Logistic, Measurements
from openrek.models.store import ModelStore
from tools.eval_data import eval_data_dir
from tools.face_labels import iou

LABELS = REPO / "tests" / "data" / "face_labels.json"
ATTRIBUTES = ("eyeglasses", "sunglasses", "beard", "mustache", "occluded")
MASKS = ("black", "blue", "green", "white")
PRODUCT_SIDE = 640  # the product scales the longer side to 640 before YuNet
# Where the points come from: YuNet on the full-size photo (as briefed for this bench;
# a face it misses there, the profile in BWPictureHuman.jpg, is taken at 640), or only
# at the product's 640 scale, where large, tilted faces get visibly worse points.
POINT_SOURCES: dict[str, tuple[int | None, ...]] = {
    "full-size": (None, PRODUCT_SIDE),
    "product-640": (PRODUCT_SIDE,),
}

# The measurement each curve reads.
FEATURE: dict[str, Callable[[Measurements], float]] = {
    "eyeglasses": lambda m: m.bridge_line,
    "sunglasses": lambda m: m.lens_dark,
    "beard": lambda m: m.chin_dark,
    "mustache": lambda m: m.lip_dark,
    "occluded": lambda m: m.lower_off_skin,
}

# Prior (midpoint, sd of midpoint, scale) per curve, from what the measurement means:
# lenses whose 75th percentile is half as light as skin; a frame bridge 1.5x the cheek's
# mean gradient; chin or lip band 40-45 % darker than the lit cheek; half the lower face
# off skin colour. sd of log(scale) is PRIOR_LOG_SCALE_SD for all.
PRIORS: dict[str, tuple[float, float, float]] = {
    "eyeglasses": (1.5, 0.5, 0.2),
    "sunglasses": (0.5, 0.1, 0.05),
    "beard": (0.4, 0.1, 0.05),
    "mustache": (0.45, 0.1, 0.05),
    "occluded": (0.5, 0.2, 0.1),
}
PRIOR_LOG_SCALE_SD = 0.5


@dataclass(frozen=True)
class Sample:
    photo: str
    truth: dict[str, bool | None]
    measured: Measurements


def detector_path() -> Path:
    path = ModelStore(Settings.from_env().models_dir).path("face-detector")
    if not path.is_file():
        sys.exit(f"{path} is missing: run `openrek models pull` first")
    return path


def detect(model: Path, image_rgb: np.ndarray, side: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(box x1 y1 x2 y2, five points) found with the longer side scaled to `side`
    (None: full size), in pixels of the full image."""
    height, width = image_rgb.shape[:2]
    scale = 1.0 if side is None else side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    scaled = (
        image_rgb
        if scale == 1.0
        else cv2.resize(image_rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    )
    net = cv2.FaceDetectorYN.create(str(model), "", size, score_threshold=0.6)
    _, rows = net.detect(cv2.cvtColor(scaled, cv2.COLOR_RGB2BGR))
    return [
        (np.array([r[0], r[1], r[0] + r[2], r[1] + r[3]]) / scale, r[4:14].reshape(5, 2) / scale)
        for r in ([] if rows is None else rows)
    ]


def paste_mask(image_rgb: np.ndarray, five_points: np.ndarray, mask_rgb: np.ndarray) -> np.ndarray:
    """A copy of the image with a mask texture over nose, mouth and chin.

    The rectangle is placed in the canonical face frame (from just below the eyes to
    below the chin, 1.7 eye distances wide) and mapped back, so it follows the face's
    size and roll.
    """
    matrix = appearance.canonical_transform(five_points)
    inverse = cv2.invertAffineTransform(matrix)
    warped = np.asarray(five_points, np.float64).reshape(5, 2) @ matrix[:, :2].T + matrix[:, 2]
    unit, centre = appearance.UNIT, (warped[0, 0] + warped[1, 0]) / 2
    top, bottom = warped[2, 1] - 0.3 * unit, (warped[3, 1] + warped[4, 1]) / 2 + 0.75 * unit
    left, right = centre - 0.85 * unit, centre + 0.85 * unit
    quad = np.array([[left, top], [right, top], [right, bottom], [left, bottom]])
    quad = quad @ inverse[:, :2].T + inverse[:, 2]
    h, w = mask_rgb.shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    homography = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    size = (image_rgb.shape[1], image_rgb.shape[0])
    texture = cv2.warpPerspective(mask_rgb, homography, size).astype(np.float32)
    alpha = cv2.warpPerspective(np.ones((h, w), np.float32), homography, size)[..., None]
    masked: np.ndarray = (image_rgb * (1.0 - alpha) + texture * alpha).astype(
        np.uint8
    )  # Any in numpy's stubs
    return masked


def load_rgb(path: Path) -> np.ndarray:
    return np.array(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))


def collect(
    photos: Path, model: Path, sides: tuple[int | None, ...]
) -> tuple[list[Sample], list[Sample], int]:
    """Real labelled faces, masked copies, and how many labels found no detection.

    Each label takes the points of the first detector scale in `sides` that finds it.
    """
    labels = json.loads(LABELS.read_text())
    masks = {name: load_rgb(photos / "insightface" / f"mask_{name}.jpg") for name in MASKS}
    real: list[Sample] = []
    masked: list[Sample] = []
    missed = 0
    for photo, faces in sorted(labels.items()):
        if not faces:
            continue
        image = load_rgb(photos / photo)
        found = [detect(model, image, side) for side in sides]
        for face in faces:
            points = None
            for candidates in found:
                best = max(candidates, key=lambda d: iou(d[0], face["box"]), default=None)
                if best is not None and iou(best[0], face["box"]) >= 0.5:
                    points = best[1]
                    break
            if points is None:
                missed += 1
                continue
            truth = {name: face[name] for name in ATTRIBUTES}
            real.append(Sample(photo, truth, appearance.measure(image, points)))
            if face["occluded"] is not False or _is_grey(image):
                continue  # colour masks on a grey photo would be no fair test
            for texture in masks.values():
                covered = paste_mask(image, points, texture)
                masked.append(Sample(photo, {**truth, "occluded": True}, appearance.measure(covered, points)))
    return real, masked, missed


def _is_grey(image_rgb: np.ndarray) -> bool:
    channels = image_rgb.astype(np.int16)
    return bool(
        np.abs(channels[..., 0] - channels[..., 1]).mean() < 1
        and np.abs(channels[..., 1] - channels[..., 2]).mean() < 1
    )


def probabilities(curves: dict[str, Logistic], m: Measurements) -> dict[str, float]:
    """The same combination as appearance.measure_appearance, from given curves."""
    p = {name: curves[name](FEATURE[name](m)) for name in ATTRIBUTES}
    p["eyeglasses"] = max(p["eyeglasses"], p["sunglasses"])
    return p


def fit(name: str, samples: list[Sample]) -> Logistic:
    """MAP logistic curve for one attribute (see the module docstring), by grid search."""
    pairs = [(FEATURE[name](s.measured), s.truth[name]) for s in samples if s.truth[name] is not None]
    x = np.array([v for v, _ in pairs], dtype=np.float64)
    y = np.array([bool(t) for _, t in pairs])
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    weight = np.where(y, len(y) / (2.0 * max(n_pos, 1)), len(y) / (2.0 * max(n_neg, 1)))
    mid0, mid_sd, scale0 = PRIORS[name]
    mids = np.linspace(mid0 - 4 * mid_sd, mid0 + 4 * mid_sd, 201)
    log_scales = np.log(scale0) + np.linspace(-3, 3, 61) * PRIOR_LOG_SCALE_SD
    z = (x[None, None, :] - mids[:, None, None]) / np.exp(log_scales)[None, :, None]
    # log(1 + exp(-z)) for positives, log(1 + exp(z)) for negatives, written stably.
    loss = np.logaddexp(0.0, np.where(y, -z, z))
    objective = (loss * weight).sum(axis=2)
    objective += 0.5 * ((mids[:, None] - mid0) / mid_sd) ** 2
    objective += 0.5 * ((log_scales[None, :] - np.log(scale0)) / PRIOR_LOG_SCALE_SD) ** 2
    i, j = np.unravel_index(np.argmin(objective), objective.shape)
    return Logistic(round(float(mids[i]), 4), round(float(np.exp(log_scales[j])), 4))


def fit_all(samples: list[Sample]) -> dict[str, Logistic]:
    return {name: fit(name, samples) for name in ATTRIBUTES}


@dataclass
class Score:
    faces: int = 0
    positives: int = 0
    correct: int = 0
    true_pos: int = 0
    said_pos: int = 0

    def add(self, truth: bool, p: float) -> None:
        said = p >= 0.5
        self.faces += 1
        self.positives += truth
        self.correct += said == truth
        self.true_pos += said and truth
        self.said_pos += said

    def row(self, name: str) -> str:
        def pct(a: int, b: int) -> str:
            return f"{100.0 * a / b:6.1f}%" if b else "    n/a"

        return (
            f"{name:11s} {self.faces:5d} {self.positives:5d}  {pct(self.correct, self.faces)}"
            f"  {pct(self.true_pos, self.said_pos)}  {pct(self.true_pos, self.positives)}"
        )


def table(title: str, scored: list[tuple[Sample, dict[str, float]]], names: Iterable[str]) -> None:
    print(f"\n{title}")
    print("attribute   faces  pos   accuracy  precision  recall")
    for name in names:
        score = Score()
        for sample, p in scored:
            if sample.truth[name] is not None:
                score.add(bool(sample.truth[name]), p[name])
        print(score.row(name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="refit and print appearance.CURVES")
    args = parser.parse_args()

    photos, model = eval_data_dir(), detector_path()
    real: list[Sample] = []
    masked: list[Sample] = []
    for source, sides in POINT_SOURCES.items():
        some_real, some_masked, missed = collect(photos, model, sides)
        print(
            f"\n=== points from YuNet {source}: {len(some_real)} labelled faces matched, "
            f"{missed} not; {len(some_masked)} masked copies ==="
        )
        report(some_real, some_masked)
        real += some_real
        masked += some_masked

    if args.fit:
        # Both point sources together: the curves should not depend on which one ran.
        print("\nCURVES fitted on all labelled faces and masked copies, both point sources:")
        for name, curve in fit_all(real + masked).items():
            print(f'    "{name}": Logistic({curve.midpoint}, {curve.scale}),')


def report(real: list[Sample], masked: list[Sample]) -> None:
    table(
        "1. in-sample (shipped curves, fitted on these faces)",
        [(s, probabilities(CURVES, s.measured)) for s in real],
        ATTRIBUTES,
    )
    everything = real + masked
    held_out_real, held_out_masked = [], []
    for photo in sorted({s.photo for s in real}):
        curves = fit_all([s for s in everything if s.photo != photo])
        held_out_real += [(s, probabilities(curves, s.measured)) for s in real if s.photo == photo]
        held_out_masked += [(s, probabilities(curves, s.measured)) for s in masked if s.photo == photo]
    table(
        "2. leave-one-photo-out (curves refitted without the scored photo)",
        held_out_real,
        ATTRIBUTES,
    )
    table(
        "3. masked copies, leave-one-photo-out (all positives: recall = accuracy)",
        held_out_masked,
        ["occluded"],
    )


if __name__ == "__main__":
    main()

"""ConnectedHome settings and what a frame shows of them: people, pets and packages.

Detection is DetectLabels' own (inference/labels/labeler.py), so a frame gets the
answer DetectLabels would give: COCO boxes from NanoDet, each checked by the ImageNet
classifier on its crop, with the noisy-OR confidence of the two.
- PERSON: the "Person" label's boxes; when only faces were found (no body box), the
  face boxes stand for the person.
- PET: the boxes of every label under "Pet" in the label vocabulary: "Cat" and "Dog"
  (COCO has no other pet class with a box).
- PACKAGE: not detected. COCO has no package class, and the classifier's nearest
  classes (carton, crate, packet, envelope) could not be measured: no eval photo
  shows a package. A processor asked for PACKAGE (or ALL) runs, and its summary says
  that packages are not detected here, rather than guessing.
A detection counts at MinConfidence or more, and only inside the RegionsOfInterest
(streams/regions.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openrek.inference.labels.labeler import DetectedLabel
from openrek.streams.regions import Box, Region, in_regions

PERSON, PET, PACKAGE, ALL = "PERSON", "PET", "PACKAGE", "ALL"
KNOWN_LABELS = (PERSON, PET, PACKAGE)
DEFAULT_MIN_CONFIDENCE = 50.0  # AWS's default (developer guide, label detection stream processors)
# What this server cannot detect, and why: said in the session's summary.
NOT_DETECTED = {
    PACKAGE: "PACKAGE is not detected by this server: it has no package detector (see docs/streams.md)",
}


class SettingsInvalid(ValueError):
    """str(error) says what is wrong, for an InvalidParameterException."""


def requested_labels(labels: Sequence[Any]) -> tuple[str, ...]:
    """Settings.ConnectedHome.Labels as the classes to report, ALL spelt out, in AWS's order."""
    if not labels:
        raise SettingsInvalid(
            "Settings.ConnectedHome.Labels must name at least one of PERSON, PET, PACKAGE, ALL"
        )
    unknown = [label for label in labels if label not in (*KNOWN_LABELS, ALL)]
    if unknown:
        raise SettingsInvalid(
            f"Settings.ConnectedHome.Labels has {unknown[0]!r}; valid labels are PERSON, PET, PACKAGE and ALL"
        )
    if ALL in labels:
        return KNOWN_LABELS
    return tuple(label for label in KNOWN_LABELS if label in labels)


def min_confidence_of(settings: dict[str, Any]) -> float:
    value = settings.get("MinConfidence", DEFAULT_MIN_CONFIDENCE)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 100.0:
        raise SettingsInvalid("Settings.ConnectedHome.MinConfidence must be a number from 0 to 100")
    return float(value)


@dataclass(frozen=True)
class Sighting:
    label: str  # PERSON or PET
    confidence: float  # 0..100
    box: Box  # left, top, right, bottom as ratios of the frame


def connected_home_class(name: str, ancestors: Sequence[str]) -> str | None:
    if name == "Person":
        return PERSON
    if "Pet" in ancestors:
        return PET
    return None


def sightings(
    labels: Sequence[DetectedLabel],
    ancestors: dict[str, tuple[str, ...]],
    width: int,
    height: int,
    wanted: Sequence[str],
    min_confidence: float,
    regions: Sequence[Region],
) -> list[Sighting]:
    """The frame's people and pets (of `wanted`) at `min_confidence` or more and inside
    `regions`, most confident first."""
    boxes: list[tuple[str, float, tuple[float, float, float, float]]] = []
    by_name = {label.name: label for label in labels}
    for label in labels:
        kind = connected_home_class(label.name, ancestors.get(label.name, ()))
        if kind is None or kind not in wanted:
            continue
        instances = label.instances
        if kind == PERSON and not instances and "Face" in by_name:
            instances = by_name["Face"].instances  # a face without a body box: the person is there
        boxes += [(kind, instance.confidence, instance.box) for instance in instances]
    found = []
    for kind, confidence, (x1, y1, x2, y2) in boxes:
        percent = 100.0 * confidence
        if percent < min_confidence:
            continue
        box = (max(x1, 0.0) / width, max(y1, 0.0) / height, min(x2, width) / width, min(y2, height) / height)
        if in_regions(box, regions):
            found.append(Sighting(kind, percent, box))
    return sorted(found, key=lambda s: -s.confidence)

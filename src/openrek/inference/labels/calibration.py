"""Per-label confidence calibration, so that MinConfidence 55 and 90 mean on openrek
what they mean on Amazon Rekognition: at 55 (the default) most returned labels are
right, at 90 a returned label is very rarely wrong.

The labeler's raw scores (classifier masses, noisy-ORs with boxes, scene-head
probabilities) are not probabilities of being right, and they differ by label: a
Dog mass of 0.6 is nearly always right, a Plant mass of 0.6 often is not. Each label
gets two raw thresholds, measured on the tuning part of bench/data/label_photos.json by
`tools/fit_labels.py`: `t55`, the lowest raw score from which that label's
answers were right at least 90% of the time, and `t90`, the lowest from which they
were right at least 95% of the time. Confidence is then piecewise linear in the raw
score: 0 -> 0, t55 -> 55, t90 -> 90, 1 -> 100. Labels seen too rarely to measure
borrow their estimate from all labels pooled (see the tool). Thresholds are stored
in `calibration.json`; without it the raw scores are reported unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Thresholds:
    t55: float  # raw score that maps to confidence 55
    t90: float  # raw score that maps to confidence 90

    def __post_init__(self) -> None:
        if not 0.0 < self.t55 <= self.t90 < 1.0:
            raise ValueError(f"thresholds {self.t55}, {self.t90} are not 0 < t55 <= t90 < 1")


@dataclass(frozen=True)
class Calibration:
    default: Thresholds
    labels: Mapping[str, Thresholds]

    def confidence(self, label: str, raw: float) -> float:
        """Calibrated confidence in [0, 1] of a raw score in [0, 1]."""
        t = self.labels.get(label, self.default)
        if raw <= t.t55:
            return 0.55 * raw / t.t55
        if raw <= t.t90:
            span = t.t90 - t.t55
            return 0.55 + 0.35 * ((raw - t.t55) / span if span > 0 else 1.0)
        return min(0.9 + 0.1 * (raw - t.t90) / (1.0 - t.t90), 1.0)

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Calibration:
        default = raw["default"]
        labels = raw["labels"]
        assert isinstance(default, Mapping) and isinstance(labels, Mapping)
        return cls(
            Thresholds(float(default["t55"]), float(default["t90"])),
            {name: Thresholds(float(t["t55"]), float(t["t90"])) for name, t in labels.items()},
        )


def load_calibration() -> Calibration | None:
    resource = resources.files("openrek.inference.labels").joinpath("calibration.json")
    if not resource.is_file():
        return None
    return Calibration.from_json(json.loads(resource.read_text()))

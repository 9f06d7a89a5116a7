"""Per-label thresholds and metrics on the test images, and the evaluation summary
file in the shape AWS writes it (EvaluationSummary-<project>-<version>.json)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD = 50.0  # percent; a label the test images never show keeps this one
# A test split of a few images cannot support a lower one: on 8 test scenes the
# F1-best cut sometimes fell below 10% and let dozens of background windows through.
MIN_THRESHOLD = 25.0


@dataclass(frozen=True)
class LabelResult:
    label: str
    threshold: float  # percent: the assumed threshold DetectCustomLabels applies by default
    precision: float
    recall: float
    f1: float
    test_images: int  # test images that show the label
    average_precision: float | None = None  # detection only (AP at IoU 0.5)


def best_threshold(
    scores: np.ndarray, correct: np.ndarray, positives: int
) -> tuple[float, float, float, float]:
    """(threshold, precision, recall, F1) at the cut of the scored predictions that
    maximises F1. `correct[i]` says whether prediction i is right; `positives` is how
    many right answers exist (some may never be predicted). The threshold is halfway
    between the last accepted score and the next one, so it does not sit on a test
    image's exact score."""
    if positives == 0 or len(scores) == 0:
        return DEFAULT_THRESHOLD, 0.0, 0.0, 0.0
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], correct[order].astype(np.float64)
    true_positives = np.cumsum(hits)
    precision = true_positives / np.arange(1, len(ranked) + 1)
    recall = true_positives / positives
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    cut = int(np.argmax(f1))
    below = ranked[cut + 1] if cut + 1 < len(ranked) else ranked[cut]
    threshold = max(MIN_THRESHOLD, float((ranked[cut] + below) / 2))
    return threshold, float(precision[cut]), float(recall[cut]), float(f1[cut])


def average_precision(scores: np.ndarray, correct: np.ndarray, positives: int) -> float:
    """Area under the interpolated precision-recall curve (all points, as PASCAL VOC 2010+)."""
    if positives == 0:
        return 0.0
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    hits = correct[order].astype(np.float64)
    true_positives = np.cumsum(hits)
    precision = true_positives / np.arange(1, len(hits) + 1)
    recall = true_positives / positives
    recall = np.concatenate([[0.0], recall, [recall[-1]]])
    precision = np.concatenate([[1.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum((recall[1:] - recall[:-1]) * precision[1:]))


def summary_file(
    version_arn: str,
    finished: str,
    results: list[LabelResult],
    training_images: int,
    testing_images: int,
    detection: bool,
) -> dict[str, object]:
    """The training results summary, as described in AWS's Custom Labels guide
    ("Reference: Training results summary file"); thresholds there are 0-1."""
    ranked = sorted(results, key=lambda r: -r.f1)
    aggregated: dict[str, object] = {
        "Precision": _mean([r.precision for r in results]),
        "Recall": _mean([r.recall for r in results]),
        "F1Score": model_f1(results),
    }
    if detection:
        aggregated["AveragePrecision"] = _mean([r.average_precision or 0.0 for r in results])
        aggregated["AverageRecall"] = _mean([r.recall for r in results])
    return {
        "Version": 1,
        "EvaluationDetails": {
            "ProjectVersionArn": version_arn,
            "EvaluationEndTimestamp": finished,
            "Labels": [r.label for r in results],
            "NumberOfTrainingImages": training_images,
            "NumberOfTestingImages": testing_images,
        },
        "AggregatedEvaluationResults": {"Metrics": aggregated},
        "LabelEvaluationResults": [
            {
                "Label": r.label,
                "NumberOfTestingImages": r.test_images,
                "Metrics": {
                    "Threshold": round(r.threshold / 100, 4),
                    "F1Score": round(r.f1, 4),
                    "Precision": round(r.precision, 4),
                    "Recall": round(r.recall, 4),
                },
            }
            for r in ranked
        ],
    }


def model_f1(results: list[LabelResult]) -> float:
    """The model's F1Score: the mean of its labels' F1 at their assumed thresholds."""
    return _mean([r.f1 for r in results])


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4) if values else 0.0

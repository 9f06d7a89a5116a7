"""Content-moderation adapters: what a CONTENT_MODERATION project's versions train.

An adapter changes DetectModerationLabels' answer on the customer's kind of images.
It has one head per top-level category of the v7 taxonomy, each a logistic model over
the 1280 pooled EfficientNet-Lite0 features Custom Labels already uses (the image and
its mirror, standardised), trained with an L2 penalty:

- For a category the base moderation model names (Explicit, Non-Explicit Nudity of
  Intimate parts and Kissing, Swimwear or Underwear), the head learns a correction
  to the base model's log-odds: the base model's logit is a fixed offset, and the
  penalty covers the intercept too, so with nothing to learn the correction stays
  near zero and the base answer stands. Images labelled with no unsafe content teach
  it to lower the base model where it was wrong on images like them; images labelled
  with the category teach it to raise it.
- For a category the base model cannot name (Alcohol, Violence, Gambling, ...), the
  head is a plain logistic model with class-balanced weights, learned from the images
  labelled with it against every other image. A category no training image shows
  gets no head: nothing can be learned about it, and it stays unreported.

ConfidenceThreshold (FeatureConfig.ContentModeration) is where the adapter puts its
decision: a head's log-odds are shifted so that the point where it judges a category
more likely than not (under the balanced fit) lands on that confidence, and a base
model's confidence of exactly ConfidenceThreshold is where a correction head was
trained to decide. Filtering DetectModerationLabels at MinConfidence =
ConfidenceThreshold therefore gives the adapter's decisions; other confidences keep
their order.

An image's labels are taken as complete, as AWS reads an adapter manifest: an image
labelled Alcohol is a negative for every other category.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openrek.atomic_files import write_atomically
from openrek.custom_labels.backbone import Backbone
from openrek.custom_labels.classification import CannotTrain
from openrek.custom_labels.evaluation import LabelResult
from openrek.custom_labels.manifest import Entry
from openrek.custom_labels.training import HOLD_OUT, TrainingTooLong, hold_out
from openrek.inference.moderation.taxonomy import (
    EXPLICIT,
    MODEL_VERSION,
    NON_EXPLICIT,
    PARENTS,
    SWIMWEAR,
    Evidence,
    label_scores,
    level,
)
from openrek.models.registry import sha256_of

KIND = "moderation-adapter"
BASE_CATEGORIES = (EXPLICIT, NON_EXPLICIT, SWIMWEAR)  # the top-level categories the base model names
DEFAULT_CONFIDENCE_THRESHOLD = 50.0  # DetectModerationLabels' default MinConfidence
# sklearn-style C on standardised features: the Custom Labels classifier's setting,
# which held best on the eval photos there; the tests and bench here use it unchanged.
REGULARISATION = 0.5
EPSILON = 1e-6  # keeps a base score of 0 or 1 at a finite logit
ARRAYS, META = "adapter.npz", "adapter.json"

ReadImage = Callable[[Entry], np.ndarray]
Progress = Callable[[float, str], None]
BaseScores = Callable[[np.ndarray], Evidence]


def logit(p: np.ndarray | float) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=np.float64), EPSILON, 1 - EPSILON)
    return np.asarray(np.log(clipped / (1 - clipped)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1 + np.tanh(0.5 * z)))  # no overflow warnings for large |z|


def base_top_scores(evidence: Evidence) -> dict[str, float]:
    """The base model's confidence (0-1) in each of its top-level categories."""
    scores = {s.name: s.score for s in label_scores(evidence)}
    return {name: scores.get(name, 0.0) for name in BASE_CATEGORIES}


@dataclass
class AdapterHead:
    labels: list[str]  # top-level categories with a head
    threshold: float  # ConfidenceThreshold, percent
    mean: np.ndarray  # (D,) feature standardisation
    scale: np.ndarray  # (D,)
    coef: np.ndarray  # (K, D)
    intercept: np.ndarray  # (K,)

    def decision_logits(self, features: np.ndarray, base: list[dict[str, float]]) -> np.ndarray:
        """(N, K): log-odds that each category is there; 0 is the adapter's decision point."""
        standard = (features - self.mean) / self.scale
        return np.asarray(standard @ self.coef.T + self.intercept + self.offsets(base))

    def offsets(self, base: list[dict[str, float]]) -> np.ndarray:
        """(N, K): the base model's log-odds, measured from ConfidenceThreshold, for the
        categories it names; 0 for the others."""
        shift = float(logit(self.threshold / 100))
        return np.array(
            [
                [
                    float(logit(scores[label])) - shift if label in BASE_CATEGORIES else 0.0
                    for label in self.labels
                ]
                for scores in base
            ]
        ).reshape(len(base), len(self.labels))

    def confidences(self, features: np.ndarray, base: list[dict[str, float]]) -> np.ndarray:
        """(N, K) in 0-100: the decision point lands on ConfidenceThreshold."""
        shifted = self.decision_logits(features, base) + float(logit(self.threshold / 100))
        return _sigmoid(shifted) * 100

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept}


def fit_head(
    features: np.ndarray, truth: np.ndarray, offset: np.ndarray, penalise_intercept: bool
) -> tuple[np.ndarray, float]:
    """Weights and intercept of P(y) = sigmoid(offset + features @ w + b), minimising the
    class-balanced log loss plus |w|^2 / (2C) (and b^2 / (2C) when asked)."""
    from scipy.optimize import minimize

    rows, dims = features.shape
    positives = int(truth.sum())
    weights = np.ones(rows)
    if 0 < positives < rows:  # each class weighs as much as the other
        weights = np.where(truth, rows / (2 * positives), rows / (2 * (rows - positives)))
    target = truth.astype(np.float64)
    penalty = 1 / (2 * REGULARISATION)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:dims], params[dims]
        z = offset + features @ w + b
        # log(1 + e^z) - y z, computed stably
        value = float(np.sum(weights * (np.logaddexp(0.0, z) - target * z)))
        residual = weights * (_sigmoid(z) - target)
        gradient = np.concatenate([features.T @ residual, [residual.sum()]])
        value += penalty * float(w @ w)
        gradient[:dims] += 2 * penalty * w
        if penalise_intercept:
            value += penalty * b * b
            gradient[dims] += 2 * penalty * b
        return value, gradient

    found = minimize(loss, np.zeros(dims + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return np.asarray(found.x[:dims]), float(found.x[dims])


def train_head(
    features: np.ndarray, label_sets: list[tuple[str, ...]], base: list[dict[str, float]], threshold: float
) -> AdapterHead:
    shown = {label for labels in label_sets for label in labels}
    labels = list(BASE_CATEGORIES) + sorted(shown - set(BASE_CATEGORIES))
    for label in shown:
        if all(label in labels_of for labels_of in label_sets):
            raise CannotTrain(
                f"Every training image is labelled {label}; the adapter needs images without it too"
            )
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-3
    standard = (features - mean) / scale
    head = AdapterHead(
        labels, threshold, mean, scale, np.zeros((len(labels), len(mean))), np.zeros(len(labels))
    )
    offsets = head.offsets(base)
    for k, label in enumerate(labels):
        truth = np.array([label in labels_of for labels_of in label_sets])
        head.coef[k], head.intercept[k] = fit_head(
            standard, truth, offsets[:, k], penalise_intercept=label in BASE_CATEGORIES
        )
    return head


@dataclass(frozen=True)
class Metrics:
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @classmethod
    def of(cls, decided: np.ndarray, truth: np.ndarray) -> Metrics:
        tp = int(np.sum(decided & truth))
        fp = int(np.sum(decided & ~truth))
        fn = int(np.sum(~decided & truth))
        return cls(
            tp / (tp + fp) if tp + fp else 0.0,
            tp / (tp + fn) if tp + fn else 0.0,
            2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
            tp,
            fp,
            fn,
        )

    def as_json(self) -> dict[str, float | int]:
        return {
            "F1Score": round(self.f1, 4),
            "Precision": round(self.precision, 4),
            "Recall": round(self.recall, 4),
            "TruePositives": self.true_positives,
            "FalsePositives": self.false_positives,
            "FalseNegatives": self.false_negatives,
        }


@dataclass
class TrainedAdapter:
    head: AdapterHead
    adapter: dict[str, Metrics]  # label -> metrics on the test images at ConfidenceThreshold
    base_model: dict[str, Metrics]  # the same for the base model alone (0 for what it cannot name)
    test_images: dict[str, int]  # label -> test images that show it
    training_images: int
    testing_images: int
    kind: str = KIND

    @property
    def f1(self) -> float:
        """EvaluationResult.F1Score: micro-averaged over every head's decisions on the test
        images (1.0 when nothing is unsafe and nothing was flagged)."""
        return round(_pooled(self.adapter).f1, 4)

    @property
    def results(self) -> list[LabelResult]:
        return [
            LabelResult(label, self.head.threshold, m.precision, m.recall, m.f1, self.test_images[label])
            for label, m in self.adapter.items()
        ]


def _pooled(metrics: dict[str, Metrics]) -> Metrics:
    tp = sum(m.true_positives for m in metrics.values())
    fp = sum(m.false_positives for m in metrics.values())
    fn = sum(m.false_negatives for m in metrics.values())
    return Metrics(
        tp / (tp + fp) if tp + fp else 0.0,
        tp / (tp + fn) if tp + fn else 0.0,
        2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
        tp,
        fp,
        fn,
    )


def train_adapter(
    train_entries: list[Entry],
    test_entries: list[Entry],
    read_image: ReadImage,
    backbone: Backbone,
    base_evidence: BaseScores,
    threshold: float,
    deadline: float,
    progress: Progress | None = None,
) -> TrainedAdapter:
    report = progress or (lambda _fraction, _text: None)
    for entries in (train_entries, test_entries):
        if any(e.usable and e.labeled and not e.has_moderation_attribute for e in entries):
            raise CannotTrain(
                "An adapter trains on content-moderation-groundtruth lines; the dataset has Custom Labels lines"
            )
    train_entries = [e for e in train_entries if e.usable and e.has_moderation_attribute]
    test_entries = [e for e in test_entries if e.usable and e.has_moderation_attribute]
    if not train_entries:
        raise CannotTrain("The training data has no content-moderation-groundtruth entries without errors")
    if not test_entries:
        train_entries, test_entries = hold_out(train_entries, HOLD_OUT)
        if not test_entries:
            raise CannotTrain("Too few labeled images to hold out a test set; add images or testing data")
    total, done = len(train_entries) + len(test_entries) + 1, 0

    def read(entry: Entry) -> tuple[np.ndarray, dict[str, float]]:
        nonlocal done
        if time.monotonic() > deadline:
            raise TrainingTooLong("Training took longer than the maximum training time and was stopped")
        rgb = read_image(entry)
        features = backbone.features([rgb, np.ascontiguousarray(rgb[:, ::-1])])
        scores = base_top_scores(base_evidence(rgb))
        done += 1
        report(done / total, entry.source_ref or "")
        return features, scores

    rows, label_sets, base = [], [], []
    for entry in train_entries:
        features, scores = read(entry)
        rows.append(features)  # the image and its mirror, same labels and base scores
        label_sets += [entry.labels, entry.labels]
        base += [scores, scores]
    head = train_head(np.concatenate(rows), label_sets, base, threshold)
    tested = [read(entry) for entry in test_entries]
    features = np.stack([f[0] for f, _ in tested])
    test_base = [scores for _, scores in tested]
    decided = head.confidences(features, test_base) >= threshold
    adapter, base_model, shown = {}, {}, {}
    for k, label in enumerate(head.labels):
        truth = np.array([label in e.labels for e in test_entries])
        base_scores = np.array([s.get(label, 0.0) * 100 for s in test_base])
        adapter[label] = Metrics.of(decided[:, k], truth)
        base_model[label] = Metrics.of(base_scores >= threshold, truth)
        shown[label] = int(truth.sum())
    report(1.0, "evaluated")
    return TrainedAdapter(head, adapter, base_model, shown, len(train_entries), len(test_entries))


def summary_file(version_arn: str, finished: str, model: TrainedAdapter) -> dict[str, object]:
    """The evaluation summary in the shape of Custom Labels' summary file, with the base
    model's metrics beside the adapter's at ConfidenceThreshold (what an adapter is for)."""
    return {
        "Version": 1,
        "EvaluationDetails": {
            "ProjectVersionArn": version_arn,
            "EvaluationEndTimestamp": finished,
            "Labels": model.head.labels,
            "NumberOfTrainingImages": model.training_images,
            "NumberOfTestingImages": model.testing_images,
            "ConfidenceThreshold": model.head.threshold,
            "BaseModelVersion": MODEL_VERSION,
        },
        "AggregatedEvaluationResults": {
            "Metrics": _pooled(model.adapter).as_json(),
            "BaseModelMetrics": _pooled(model.base_model).as_json(),
        },
        "LabelEvaluationResults": [
            {
                "Label": label,
                "NumberOfTestingImages": model.test_images[label],
                "Metrics": {"Threshold": round(model.head.threshold / 100, 4), **metrics.as_json()},
                "BaseModelMetrics": model.base_model[label].as_json(),
            }
            for label, metrics in model.adapter.items()
        ],
    }


# The version's file set: arrays without pickles, and a JSON description.
def save_adapter(model: TrainedAdapter, folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "kind": KIND,
        "labels": model.head.labels,
        "confidence_threshold": model.head.threshold,
        "backbone": "image-classifier",
        "base_model_version": MODEL_VERSION,
    }
    with (folder / ARRAYS).open("wb") as out:
        np.savez(out, **model.head.arrays())  # type: ignore[arg-type]  # numpy's stub reads **arrays as its allow_pickle flag
    write_atomically(folder / META, json.dumps(meta, indent=1).encode())
    return {name: sha256_of(folder / name) for name in (ARRAYS, META)}


def load_adapter(folder: Path, pins: dict[str, str]) -> AdapterHead:
    from openrek.custom_labels.training import check_pins

    check_pins(folder, pins)
    meta = json.loads((folder / META).read_text())
    with np.load(folder / ARRAYS, allow_pickle=False) as data:
        arrays = {name: np.asarray(data[name]) for name in data.files}
    return AdapterHead(list(meta["labels"]), float(meta["confidence_threshold"]), **arrays)


def adapted_labels(
    head: AdapterHead, evidence: Evidence, features: np.ndarray, min_confidence: float
) -> list[dict[str, object]]:
    """ModerationLabels as the adapter answers them, at or above `min_confidence`.

    A base category's descendants move with it: each keeps its share of the base
    model's top-level confidence, so a label never outranks its ancestor."""
    from openrek.operations.moderation import as_percent

    base = {s.name: s.score for s in label_scores(evidence)}
    tops = {name: base.get(name, 0.0) for name in BASE_CATEGORIES}
    adapted = head.confidences(features[None], [tops])[0] / 100
    scores: dict[str, float] = {}
    for label, score in zip(head.labels, adapted.tolist(), strict=True):
        scores[label] = score
    for name, score in base.items():
        if name in scores:
            continue
        top = name
        while PARENTS[top]:
            top = PARENTS[top]
        ratio = scores[top] / tops[top] if tops[top] > 0 else 0.0
        scores[name] = min(scores[top], score * ratio)
    found = [(as_percent(score), name) for name, score in scores.items()]
    kept = sorted(
        ((c, name) for c, name in found if c >= min_confidence),
        key=lambda item: (-item[0], -_level(item[1]), item[1]),
    )
    return [
        {"Confidence": c, "Name": name, "ParentName": PARENTS.get(name, ""), "TaxonomyLevel": _level(name)}
        for c, name in kept
    ]


def _level(name: str) -> int:
    return level(name) if name in PARENTS else 1  # a category the base model cannot name is top-level

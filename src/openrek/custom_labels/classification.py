"""Image classification head: logistic regression over the backbone's pooled features.

Single-label projects get one multinomial model (the labels' confidences add up to
100); multi-label projects one binary model per label (each label judged alone).
Training images are also read mirrored left-right, which doubles the few examples a
Custom Labels project usually has at no labelling cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGULARISATION = 0.5  # sklearn's C; tried 0.1-10 on the eval photos: 0.5-1 holds best on held-out photos


@dataclass
class ClassificationHead:
    labels: list[str]
    multi_label: bool
    mean: np.ndarray  # (D,) feature standardisation
    scale: np.ndarray  # (D,)
    coef: np.ndarray  # (K, D)
    intercept: np.ndarray  # (K,)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(N, len(labels)) in 0-1."""
        logits = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        if self.multi_label:
            return np.asarray(1 / (1 + np.exp(-logits)))
        if len(self.labels) == 2 and self.coef.shape[0] == 1:
            # sklearn keeps one row for two classes: the second class's log-odds.
            positive = 1 / (1 + np.exp(-logits[:, 0]))
            return np.stack([1 - positive, positive], axis=1)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept}


class CannotTrain(ValueError):
    """The dataset cannot make this model; str(error) is the StatusMessage."""


def train_classifier(
    features: np.ndarray, label_sets: list[tuple[str, ...]], multi_label: bool
) -> ClassificationHead:
    from sklearn.linear_model import LogisticRegression

    labels = sorted({label for labels in label_sets for label in labels})
    if len(labels) < 2 and not multi_label:
        raise CannotTrain("An image classification model needs at least 2 labels in its training dataset")
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-3
    standard = (features - mean) / scale
    if multi_label:
        coefs, intercepts = [], []
        for label in labels:
            truth = np.array([label in labels_of for labels_of in label_sets])
            if truth.all() or not truth.any():
                raise CannotTrain(
                    f"The label {label} is on every training image or on none; it cannot be learned"
                )
            model = LogisticRegression(C=REGULARISATION, max_iter=2000).fit(standard, truth)
            coefs.append(model.coef_[0])
            intercepts.append(model.intercept_[0])
        return ClassificationHead(labels, True, mean, scale, np.array(coefs), np.array(intercepts))
    targets = np.array([labels.index(labels_of[0]) for labels_of in label_sets])
    model = LogisticRegression(C=REGULARISATION, max_iter=2000).fit(standard, targets)
    return ClassificationHead(labels, False, mean, scale, model.coef_, model.intercept_)

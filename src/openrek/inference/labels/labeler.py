"""DetectLabels' analyser: whole-image classes, boxed objects and faces, merged into
Rekognition-style labels with parents.

Evidence for a concept comes from up to three models:
- the ImageNet classifier (EfficientNet-Lite0): the probability mass of every class
  beneath the concept in WordNet (see taxonomy.py): "Cat" = tabby + tiger cat +
  Persian + Siamese + Egyptian cat;
- the COCO object detector: the best box score of the concept's COCO class, and its
  boxes become the label's Instances;
- the face detector: "Face" (with each face box as an instance), and "Person" when a
  face is seen though no body box is.

The two estimates of one concept are combined as a noisy OR, 1 - (1 - p_cls)(1 - p_det):
the label is missed only when both models miss it, so agreement raises confidence
(a cat the classifier gives 0.92 and the detector 0.8 is 0.98) while one model alone
keeps its own score. Finally every label's ancestors receive at least its confidence,
so a parent is never less certain than its child (Rekognition's rule too).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openrek.config import Settings
from openrek.inference.labels.classifier import TAXONOMY, ImageClassifier, build_image_classifier
from openrek.inference.labels.taxonomy import Taxonomy
from openrek.inference.store import ModelStore

# Below this, evidence is noise: labels under 1% are never reported (MinConfidence
# may go down to 0, but a thousand near-zero ImageNet classes help nobody).
FLOOR = 0.01
DETECTOR_MIN_SCORE = 0.2


@dataclass(frozen=True)
class LabelInstance:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels
    confidence: float  # 0..1


@dataclass
class DetectedLabel:
    name: str
    confidence: float  # 0..1
    instances: list[LabelInstance] = field(default_factory=list)


def noisy_or(a: float, b: float) -> float:
    return 1.0 - (1.0 - a) * (1.0 - b)


@dataclass
class Labeler:
    classifier: ImageClassifier
    taxonomy: Taxonomy
    detect_objects: Callable[[np.ndarray], Sequence[Any]] | None
    detect_faces: Callable[[np.ndarray], Any] | None

    @property
    def categories(self) -> set[str]:
        """Every label category a label can carry (for validating category filters)."""
        return {c for concept in self.taxonomy.concepts.values() for c in concept.categories}

    def labels(self, rgb: np.ndarray) -> list[DetectedLabel]:
        """Every label at or above FLOOR, most confident first."""
        evidence = {
            name: p
            for name, p in self.taxonomy.concept_probabilities(self.classifier.probabilities(rgb)).items()
            if p >= FLOOR
        }
        instances: dict[str, list[LabelInstance]] = {}
        if self.detect_objects is not None:
            boxed: dict[str, float] = {}
            for found in self.detect_objects(rgb):
                concept = self.taxonomy.coco_concepts.get(found.name)
                if concept is None:
                    continue
                box = tuple(float(v) for v in found.box)
                instances.setdefault(concept, []).append(LabelInstance(box, float(found.score)))  # type: ignore[arg-type]
                boxed[concept] = max(boxed.get(concept, 0.0), float(found.score))
            for concept, score in boxed.items():
                evidence[concept] = noisy_or(evidence.get(concept, 0.0), score)
        if self.detect_faces is not None:
            self._add_faces(rgb, evidence, instances)
        for name, p in list(evidence.items()):
            for ancestor in self.taxonomy.ancestors[name]:
                evidence[ancestor] = max(evidence.get(ancestor, 0.0), p)
        found_labels = [
            DetectedLabel(name, min(p, 1.0), sorted(instances.get(name, []), key=lambda i: -i.confidence))
            for name, p in evidence.items()
            if p >= FLOOR
        ]
        return sorted(found_labels, key=lambda label: (-label.confidence, label.name))

    def _add_faces(
        self, rgb: np.ndarray, evidence: dict[str, float], instances: dict[str, list[LabelInstance]]
    ) -> None:
        assert self.detect_faces is not None
        faces = self.detect_faces(rgb)
        keep = _faces_are_people(faces, evidence, instances)
        if not keep.any():
            return
        boxes, scores = faces.boxes[keep], faces.scores[keep]
        instances["Face"] = [
            LabelInstance((float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(score))
            for b, score in zip(boxes, scores, strict=True)
        ]
        best = float(scores.max())
        evidence["Face"] = max(evidence.get("Face", 0.0), best)
        if "Person" not in instances:  # a face though no body box was found
            evidence["Person"] = max(evidence.get("Person", 0.0), best)


FACE_MIN_SCORE = 0.8
ANIMAL_MASS = 0.5


def _faces_are_people(faces: Any, evidence: dict[str, float], instances: dict) -> Any:
    """The face detector also fires on animal faces (a dog at 0.85, a squirrel at 0.72 on
    the eval photos). Its faces count only at FACE_MIN_SCORE or more, and not when the
    classifier sees an animal (Animal mass >= ANIMAL_MASS) unless the object detector
    also found a person."""
    keep = faces.scores >= FACE_MIN_SCORE
    if evidence.get("Animal", 0.0) >= ANIMAL_MASS and "Person" not in instances:
        keep[:] = False
    return keep


def _object_detector(store: ModelStore, settings: Settings) -> Callable[[np.ndarray], Sequence[Any]] | None:
    """The COCO detector of `openrek.inference.labels.objects`."""
    try:
        objects = importlib.import_module("openrek.inference.labels.objects")
    except ModuleNotFoundError:  # TEMPORARY until the detector module lands
        return None
    detector = objects.build_object_detector(store, settings)
    return lambda rgb: detector.detect(rgb, min_score=DETECTOR_MIN_SCORE)


def build(store: ModelStore, settings: Settings, faces: Any) -> Labeler:
    classifier = build_image_classifier(store, settings)
    taxonomy = Taxonomy.load(store.path(TAXONOMY))
    face_detect = faces.detector.detect if faces is not None else None
    return Labeler(classifier, taxonomy, _object_detector(store, settings), face_detect)

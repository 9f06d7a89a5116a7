"""DetectLabels' analyser: whole-image classes, boxed objects and faces, merged into
Rekognition-style labels with parents.

Evidence for a concept comes from up to three models:
- the ImageNet classifier (EfficientNet-Lite0) on the whole photo: the probability
  mass of every class beneath the concept in WordNet (see taxonomy.py), so "Cat" is
  tabby + tiger cat + Persian + Siamese + Egyptian cat;
- the COCO object detector (NanoDet-m): boxes, which become the label's Instances;
- the face detector (YuNet): "Face" (each face box an instance), and "Person" when a
  face is seen though no body box is.

The detector is fast but confuses classes (on the eval photos it calls a Samoyed a
cow at 0.68 and the skimage cat a person at 0.59), so each box is checked by the
classifier on its crop (`_box_is_plausible`). A box of a concept the classifier knows
(cat, dog, cow, orange, cup, car... anything with ImageNet classes beneath it) is kept
only when the crop gives that concept at least 5% (a "cow" box the crop calls a dog is
dropped). A box of a concept the classifier has no class for (person, traffic light,
bed...) is dropped when the crop puts half or more on Animal while the concept is not
an animal (a "person" box on a cat), or half or more on an unrelated concept of the same
kind. Boxes covering most of the photo reuse the whole-photo
probabilities instead of a second run.

Two judgements are combined as a noisy OR, 1 - (1 - p)(1 - q): the thing is missed only
when both models miss it, so agreement raises confidence while one model alone keeps
its own score. An instance's confidence is the noisy OR of its box score and the
classifier's mass for the concept on its crop (the skimage cat: a 0.40 box on a crop
the classifier gives 0.92 Cat is a 0.95 instance). A label's is the noisy OR of the
whole-photo mass and its best box score (each source counted once), and at least its
surest instance's. Finally every label's ancestors receive at least its
confidence, so a parent is never less certain than its child (Rekognition's rule too).

Before parents are filled in, a scene head (scenes.py) adds scene labels from image
statistics and this evidence, and per-label calibration (calibration.py) maps each
raw score so that 55 and 90 mean what they mean on Rekognition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from openrek.inference.faces.detector import FaceDetections
from openrek.inference.labels.calibration import Calibration, load_calibration
from openrek.inference.labels.classifier import TAXONOMY, ImageClassifier, build_image_classifier
from openrek.inference.labels.objects import DetectedObject, ObjectDetector, build_object_detector
from openrek.inference.labels.people import MAX_DESCRIBED_FACES, FaceDescription, crowd_score, describe_faces
from openrek.inference.labels.scenes import SceneHead, load_scene_head, scene_features
from openrek.inference.labels.taxonomy import Taxonomy
from openrek.inference.session import RuntimeSettings
from openrek.models.store import ModelStore

# Below this, evidence is noise: labels under 1% are never reported (MinConfidence
# may go down to 0, but a thousand near-zero ImageNet classes help nobody).
FLOOR = 0.01
DETECTOR_MIN_SCORE = 0.2
MAX_VERIFIED_BOXES = 8  # the most confident boxes are checked; the rest are dropped
MAX_CROPS = 4  # distinct regions classified per photo (each costs one classifier run)
WHOLE_PHOTO_COVER = 0.7  # a box covering this share of the photo reuses its classes
OWN_MASS = 0.05  # the crop must give a box's concept at least this, or...
RIVAL_MASS = 0.5  # ...give no unrelated concept of its kind this much
FACE_MIN_SCORE = 0.8
ANIMAL_MASS = 0.5


ObjectDetect = Callable[[np.ndarray], Sequence[DetectedObject]]
FaceDetect = Callable[[np.ndarray], FaceDetections]
# (photo, the face detector's five points (5, 2)) -> that face's age and gender
FaceDescribe = Callable[[np.ndarray, np.ndarray], FaceDescription]


def _check_confidence(confidence: float) -> None:
    if not 0.0 <= confidence <= 1.0:  # also refuses NaN
        raise ValueError(f"confidence {confidence} is not in [0, 1]")


@dataclass(frozen=True)
class LabelInstance:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels (may reach past the image)
    confidence: float  # 0..1

    def __post_init__(self) -> None:
        _check_confidence(self.confidence)
        x1, y1, x2, y2 = self.box
        if not (np.isfinite(self.box).all() and x1 <= x2 and y1 <= y2):
            raise ValueError(f"box {self.box} is not x1, y1, x2, y2 with x1 <= x2 and y1 <= y2")


@dataclass(frozen=True)
class DetectedLabel:
    name: str
    confidence: float  # 0..1
    instances: tuple[LabelInstance, ...] = ()  # most confident first

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a label has a name")
        _check_confidence(self.confidence)


def noisy_or(a: float, b: float) -> float:
    return 1.0 - (1.0 - a) * (1.0 - b)


def _box_tuple(box: Iterable[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1, y1, x2, y2)


@dataclass
class Labeler:
    classifier: ImageClassifier
    taxonomy: Taxonomy
    detect_objects: ObjectDetect | None
    detect_faces: FaceDetect | None

    scene_head: SceneHead | None = None
    calibration: Calibration | None = None
    # People descriptors (people.py): age and gender of each face kept.
    describe_face: FaceDescribe | None = None

    def labels(self, rgb: np.ndarray) -> list[DetectedLabel]:
        """Every label at or above FLOOR, most confident first."""
        evidence, instances, classes = self.observe(rgb)
        if self.scene_head is not None:
            # The scene head reads the models' evidence, the image's statistics and the
            # class distribution; it adds scenes (Sky, Indoors...) and confirms or adds
            # what context implies.
            scenes = self.scene_head.probabilities(scene_features(rgb, evidence), classes)
            evidence = with_scenes(evidence, scenes)
        return self.finish(evidence, instances)

    def finish(
        self, evidence: dict[str, float], instances: dict[str, list[LabelInstance]]
    ) -> list[DetectedLabel]:
        """Calibrated labels with their parents from raw evidence (scenes included)."""
        evidence = dict(evidence)
        if self.calibration is not None:
            # Labels are calibrated; an instance keeps its box's own confidence (detector
            # score with the crop's check), and a label stays at least as sure as its
            # surest instance.
            evidence = {
                name: max(
                    self.calibration.confidence(name, p),
                    max((box.confidence for box in instances.get(name, ())), default=0.0),
                )
                for name, p in evidence.items()
            }
        for name, p in list(evidence.items()):
            for ancestor in self.taxonomy.ancestors[name]:
                evidence[ancestor] = max(evidence.get(ancestor, 0.0), p)
        found_labels = [
            DetectedLabel(
                name, min(p, 1.0), tuple(sorted(instances.get(name, []), key=lambda i: -i.confidence))
            )
            for name, p in evidence.items()
            if p >= FLOOR
        ]
        # Ties go to the ancestor (it has fewer ancestors), so that MaxLabels never
        # keeps a label while cutting a parent of equal confidence.
        return sorted(
            found_labels,
            key=lambda label: (-label.confidence, len(self.taxonomy.ancestors[label.name]), label.name),
        )

    def evidence(self, rgb: np.ndarray) -> tuple[dict[str, float], dict[str, list[LabelInstance]]]:
        """Raw evidence of classifier, detector and faces per concept (before the scene
        head, calibration and parents), with the instances found."""
        evidence, instances, _ = self.observe(rgb)
        return evidence, instances

    def observe(self, rgb: np.ndarray) -> tuple[dict[str, float], dict[str, list[LabelInstance]], np.ndarray]:
        """evidence() and the whole photo's 1000 class probabilities."""
        classes = self.classifier.probabilities(rgb)
        whole = self.taxonomy.concept_probabilities(classes)
        evidence = {name: p for name, p in whole.items() if p >= FLOOR}
        instances: dict[str, list[LabelInstance]] = {}
        if self.detect_objects is not None:
            box_scores: dict[str, float] = {}
            for concept, box, detector_score in self._verified_boxes(rgb, whole):
                instances.setdefault(concept, []).append(box)
                box_scores[concept] = max(box_scores.get(concept, 0.0), detector_score)
            for concept, detector_score in box_scores.items():
                # Classifier and detector are the two independent sources; a label is
                # also at least as sure as its surest instance.
                best_instance = max(b.confidence for b in instances[concept])
                combined = noisy_or(evidence.get(concept, 0.0), detector_score)
                evidence[concept] = max(combined, best_instance)
        faces = 0
        if self.detect_faces is not None:
            faces = self._add_faces(rgb, evidence, instances)
        self._add_crowd(evidence, instances, faces)
        return evidence, instances, classes

    def _add_crowd(
        self, evidence: dict[str, float], instances: dict[str, list[LabelInstance]], faces: int
    ) -> None:
        """Crowd from how many people were found (person boxes or faces, the more)."""
        people = max(len(instances.get("Person", ())), faces)
        if people and self.describe_face is not None:
            evidence["Crowd"] = max(evidence.get("Crowd", 0.0), crowd_score(people))

    def _verified_boxes(
        self, rgb: np.ndarray, whole: dict[str, float]
    ) -> list[tuple[str, LabelInstance, float]]:
        """(concept, instance, detector score) of each box that passes the crop check."""
        assert self.detect_objects is not None
        height, width = rgb.shape[:2]
        boxes = []
        for found in self.detect_objects(rgb):
            concept = self.taxonomy.coco_concepts.get(found.name)
            if concept is not None:
                boxes.append((concept, LabelInstance(_box_tuple(found.box), float(found.score))))
        boxes = sorted(boxes, key=lambda b: -b[1].confidence)[:MAX_VERIFIED_BOXES]
        crops: list[np.ndarray] = []
        crop_of: dict[int, int] = {}  # box index -> crop index
        seen: dict[tuple[int, int, int, int], int] = {}  # the detector often boxes one
        for index, (_, box) in enumerate(boxes):  # region as several classes: crop it once
            if _covers_photo(box.box, width, height):
                continue  # judged by the whole-photo probabilities
            key = (round(box.box[0]), round(box.box[1]), round(box.box[2]), round(box.box[3]))
            if key not in seen and len(crops) == MAX_CROPS:
                continue  # unverified: dropped below
            if key not in seen:
                seen[key] = len(crops)
                crops.append(_padded_crop(rgb, box.box))
            crop_of[index] = seen[key]
        masses: list[dict[str, float]] = []
        if crops:
            probabilities = self.classifier.probabilities_batch(crops, crop_fraction=1.0)
            masses = [self.taxonomy.concept_probabilities(p) for p in probabilities]
        verified = []
        for index, (concept, box) in enumerate(boxes):
            if index in crop_of:
                crop = masses[crop_of[index]]
            elif _covers_photo(box.box, width, height):
                crop = whole
            else:
                continue  # beyond MAX_CROPS regions: not verified, not reported
            if self._box_is_plausible(concept, crop):
                # Two judgements of the same box: the detector's score and the
                # classifier's mass for the concept on the crop.
                confidence = noisy_or(box.confidence, crop.get(concept, 0.0))
                verified.append((concept, LabelInstance(box.box, confidence), box.confidence))
        return verified

    def _box_is_plausible(self, concept: str, crop: dict[str, float]) -> bool:
        if crop.get(concept, 0.0) >= OWN_MASS:
            return True
        if concept in self.taxonomy.concept_classes:
            return False  # the classifier knows this concept and does not see it here
        related = {concept, *self.taxonomy.ancestors[concept]}
        if "Animal" not in related and crop.get("Animal", 0.0) >= ANIMAL_MASS:
            return False  # a person, chair or car box on what the classifier calls an animal
        kinds = self.taxonomy.roots(concept)
        for rival, mass in crop.items():
            if mass < RIVAL_MASS or rival in related or concept in self.taxonomy.ancestors[rival]:
                continue
            if kinds & self.taxonomy.roots(rival) and rival not in kinds:
                return False  # a "cow" box on a crop the classifier calls a dog
        return True

    def _add_faces(
        self, rgb: np.ndarray, evidence: dict[str, float], instances: dict[str, list[LabelInstance]]
    ) -> int:
        """Adds Face, Person and the age and gender labels; returns the faces kept."""
        assert self.detect_faces is not None
        faces = self.detect_faces(rgb)
        keep = _faces_are_people(faces, evidence, instances)
        if not keep.any():
            return 0
        boxes, scores = faces.boxes[keep], faces.scores[keep]
        instances["Face"] = [
            LabelInstance(_box_tuple(b), float(score)) for b, score in zip(boxes, scores, strict=True)
        ]
        best = float(scores.max())
        evidence["Face"] = max(evidence.get("Face", 0.0), best)
        if "Person" not in instances:  # a face though no body box was found
            evidence["Person"] = max(evidence.get("Person", 0.0), best)
        if self.describe_face is not None:
            areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            largest = np.argsort(-areas, kind="stable")[:MAX_DESCRIBED_FACES]
            points = faces.points[keep]
            described = [self.describe_face(rgb, points[i]) for i in largest]
            scored = [
                FaceDescription(float(scores[i]), d.age_probabilities, d.male_probability)
                for i, d in zip(largest, described, strict=True)
            ]
            for name, score in describe_faces(scored).items():
                evidence[name] = max(evidence.get(name, 0.0), score)
        return int(keep.sum())


def with_scenes(evidence: dict[str, float], scenes: dict[str, float]) -> dict[str, float]:
    """The evidence with the scene head's answers: each label at least as sure as it says."""
    merged = dict(evidence)
    for name, p in scenes.items():
        merged[name] = max(merged.get(name, 0.0), p)
    return merged


def _covers_photo(box: tuple[float, float, float, float], width: int, height: int) -> bool:
    x1, y1, x2, y2 = box
    return (x2 - x1) * (y2 - y1) >= WHOLE_PHOTO_COVER * width * height


def _padded_crop(rgb: np.ndarray, box: tuple[float, float, float, float], pad: float = 0.1) -> np.ndarray:
    """The box grown by `pad` of its size on each side (context helps the classifier)."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * pad, (y2 - y1) * pad
    left, top = max(int(x1 - dx), 0), max(int(y1 - dy), 0)
    right, bottom = min(int(np.ceil(x2 + dx)), width), min(int(np.ceil(y2 + dy)), height)
    return rgb[top : max(bottom, top + 1), left : max(right, left + 1)]


def _faces_are_people(
    faces: FaceDetections, evidence: dict[str, float], instances: dict[str, list[LabelInstance]]
) -> np.ndarray:
    """The face detector also fires on animal faces (a dog at 0.85, a squirrel at 0.72 on
    the eval photos). Its faces count only at FACE_MIN_SCORE or more, and not when the
    classifier sees an animal (Animal mass >= ANIMAL_MASS) unless the object detector
    also found a person."""
    keep = faces.scores >= FACE_MIN_SCORE
    if evidence.get("Animal", 0.0) >= ANIMAL_MASS and "Person" not in instances:
        keep[:] = False
    return keep


def build_labeler(
    store: ModelStore,
    runtime: RuntimeSettings,
    detect_faces: FaceDetect | None,
    objects: ObjectDetector | None = None,
    calibrated: bool = True,
    describe_face: FaceDescribe | None = None,
) -> Labeler:
    """`detect_faces` is the face operations' detector (its threshold is theirs too);
    `objects`, the COCO detector when another part of the server already loaded it;
    `describe_face`, DetectFaces' age and gender of one face (people.py)."""
    classifier = build_image_classifier(store, runtime)
    taxonomy = Taxonomy.load(store.path(TAXONOMY))
    detector = objects or build_object_detector(store, runtime)
    return Labeler(
        classifier,
        taxonomy,
        lambda rgb: detector.detect(rgb, min_score=DETECTOR_MIN_SCORE),
        detect_faces,
        # Uncalibrated (for tools/fit_labels.py, which fits both) means without the
        # fitted scene head too.
        scene_head=load_scene_head() if calibrated else None,
        calibration=load_calibration() if calibrated else None,
        describe_face=describe_face,
    )

"""DetectProtectiveEquipment's analysis: persons, body parts, equipment on them.

Persons come from the body-pose model (MoveNet MultiPose, 17 COCO keypoints);
faces from the face detector the face operations use. A face no pose claims is a
person too (a close-up, or someone the pose model missed): its box is the head,
the only part of that person anything has located.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from openrek.inference.ppe.body_parts import (
    Face,
    PartRegion,
    Pose,
    clip_box,
    face_region,
    hand_regions,
    head_region,
    match_faces,
)
from openrek.inference.ppe.face_cover import FaceCoverClassifier, mask_box
from openrek.inference.ppe.findings import (
    FACE,
    FACE_COVER,
    HEAD,
    HEAD_COVER,
    REPORTED_MINIMUM,
    BodyPart,
    Equipment,
    Person,
    reporting_confidence,
)
from openrek.inference.ppe.head_cover import HelmetClassifier

MAX_PERSONS = 15  # Rekognition's limit per image
# MoveNet MultiPose person scores are used from this value.
PERSON_FLOOR = 0.2
# A pose no face is found on needs this score: on the eval photos every pose
# scored under it without a face was a false person (a butterfly, a shop sign),
# while real people seen from the front scored from 0.21 with their face found.
POSE_ONLY_MIN_SCORE = 0.3
# A face no pose claims makes a person of its own only when the face detector is
# this sure of it: a face is then all the evidence there is of that person.
FACE_ONLY_MIN_SCORE = 0.8
MODEL_VERSION = "1.0"


class PoseEstimator(Protocol):
    def estimate(self, image_rgb: np.ndarray, min_score: float = ...) -> Sequence[Pose]: ...


class FaceDetector(Protocol):
    def detect(self, image_rgb: np.ndarray) -> Any: ...


class Inspector:
    # Equipment types whose absence the models can establish: a face the mask
    # classifier sees bare is bare. A head with no helmet found is not proof of a
    # bare head (helmet recall is unmeasured), and nothing detects gloves.
    determinable = frozenset({FACE_COVER})
    model_version = MODEL_VERSION

    def __init__(
        self,
        poses: PoseEstimator,
        faces: FaceDetector,
        face_cover: FaceCoverClassifier,
        helmets: HelmetClassifier | None = None,
    ) -> None:
        self._poses = poses
        self._faces = faces
        self._face_cover = face_cover
        self._helmets = helmets

    def inspect(self, image_rgb: np.ndarray) -> list[Person]:
        height, width = image_rgb.shape[:2]
        poses = list(self._poses.estimate(image_rgb, min_score=PERSON_FLOOR))
        found = self._faces.detect(image_rgb)
        faces = [Face(found.boxes[i], float(found.scores[i]), found.points[i]) for i in range(len(found))]
        matched = match_faces(poses, faces)
        claimed = set(matched.values())

        people: list[tuple[np.ndarray, float, list[PartRegion], Face | None]] = []
        for index, pose in enumerate(poses):
            face = faces[matched[index]] if index in matched else None
            if face is None and pose.score < POSE_ONLY_MIN_SCORE:
                continue
            regions = [face_region(face)] if face is not None else []
            head = head_region(pose, face)
            regions += ([head] if head is not None else []) + hand_regions(pose)
            box = np.asarray(pose.box, np.float32)
            if head is not None:  # the pose box may stop at the nose; the head is the person's
                box = np.array([min(box[0], head.box[0]), min(box[1], head.box[1]),
                                max(box[2], head.box[2]), max(box[3], head.box[3])], np.float32)
            confidence = reporting_confidence(float(pose.score), PERSON_FLOOR)
            if face is not None:  # a face found on the pose is evidence of the person too
                confidence = max(confidence, face_region(face).confidence)
            people.append((box, confidence, regions, face))
        for index, face in enumerate(faces):
            if index in claimed or face.score < FACE_ONLY_MIN_SCORE:
                continue
            head = head_region(None, face)
            assert head is not None
            people.append((head.box, float(min(100.0, face.score * 100.0)),
                           [face_region(face), head], face))

        people.sort(key=lambda p: -p[1])
        people = people[:MAX_PERSONS]
        masked = self._face_cover.probabilities(image_rgb, [p[3] for p in people if p[3] is not None])
        mask_of = iter(masked)
        persons = []
        for box, confidence, regions, face in people:
            mask_probability = float(next(mask_of)) if face is not None else 0.0
            parts = []
            for region in regions:
                region_box = clip_box(region.box, width, height)
                equipment: list[Equipment] = []
                if region.name == FACE and face is not None and mask_probability >= 0.5:
                    equipment.append(self._equipment(FACE_COVER, mask_box(face), mask_probability,
                                                     width, height))
                if region.name == HEAD and self._helmets is not None:
                    helmet = self._helmets.probability(image_rgb, region_box)
                    if helmet >= 0.5:
                        equipment.append(self._equipment(HEAD_COVER, region_box, helmet, width, height))
                parts.append(BodyPart(region.name, region_box, region.confidence, tuple(equipment)))
            persons.append(Person(clip_box(box, width, height), confidence, tuple(parts)))
        return persons

    @staticmethod
    def _equipment(kind: str, box: np.ndarray, probability: float, width: int, height: int) -> Equipment:
        confidence = max(REPORTED_MINIMUM, min(100.0, probability * 100.0))
        # Found by classifying the body part itself, the item is on that part by
        # construction: its coverage is as certain as its presence.
        return Equipment(kind, clip_box(box, width, height), confidence, True, confidence)


def build(store: Any, settings: Any, faces: Any) -> Inspector:
    """The analyser services.ANALYZERS names: models from the store, the face
    detector shared with the face operations."""
    from openrek.inference.people.pose import build_pose_estimator
    from openrek.inference.session import open_session

    store.verify(["face-cover"])
    face_cover = FaceCoverClassifier(open_session(store.path("face-cover"), settings.runtime))
    helmets = None
    if store.path("image-classifier").exists():
        from openrek.inference.labels.classifier import build_image_classifier

        helmets = HelmetClassifier(build_image_classifier(store, settings))
    return Inspector(build_pose_estimator(store, settings), faces.detector, face_cover, helmets)

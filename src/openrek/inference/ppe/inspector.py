"""DetectProtectiveEquipment's analysis: persons, body parts, equipment on them.

Persons come from the body-pose model (MoveNet MultiPose, 17 COCO keypoints);
faces from the face detector the face operations use. A face no pose claims is a
person too (a close-up, or someone the pose model missed): its box is the head,
the only part of that person anything has located.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from openrek.inference.faces.detector import FaceDetections, YuNetDetector
from openrek.inference.ppe.body_parts import (
    FACE_FLOOR,
    Face,
    PartRegion,
    Pose,
    clip_box,
    face_region,
    hand_regions,
    head_region,
    match_faces,
    placed,
)
from openrek.inference.ppe.face_cover import FaceCoverClassifier, mask_box
from openrek.inference.ppe.findings import (
    FACE,
    FACE_COVER,
    HEAD,
    HEAD_COVER,
    BodyPart,
    Equipment,
    Person,
    certainty,
)
from openrek.inference.ppe.head_cover import HelmetClassifier
from openrek.inference.session import RuntimeSettings, open_session
from openrek.models.store import ModelStore

MAX_PERSONS = 15  # Rekognition's limit per image
# MoveNet MultiPose person scores are used from this value, when a face found on
# the pose confirms the person: a mask over the nose and mouth drops MoveNet's
# scores (four of six people in t1.jpg fell under 0.2 once masked).
PERSON_FLOOR = 0.1
# A pose no face is found on needs this score: on the eval photos every pose
# scored under it without a face was a false person (a butterfly, a shop sign),
# while real people seen from the front scored from 0.21 with their face found.
POSE_ONLY_MIN_SCORE = 0.3
# A face no pose claims makes a person of its own only when the face detector is
# this sure of it: a face is then all the evidence there is of that person. Bare
# faces in the eval photos score 0.83-0.95, masked composites 0.69-0.91; false
# faces scored 0.61 (a motorcycle), 0.65 (a dress), 0.72 (a squirrel) and 0.85 (a
# Samoyed, which DetectFaces reports too).
FACE_ONLY_MIN_SCORE = 0.73
# Second looks for a person around a face the first pose pass missed (each costs
# one pose run); past this many, faces stay persons without a body.
MAX_SECOND_LOOKS = 6
# A classifier's item is found from this probability (and its certainty counts from there).
EQUIPMENT_FLOOR = 0.5
MODEL_VERSION = "1.0"


@dataclass
class Candidate:
    """A person before equipment is looked for."""

    box: np.ndarray
    confidence: float
    regions: list[PartRegion]
    face: Face | None


class PoseEstimator(Protocol):
    def estimate(self, rgb: np.ndarray, min_score: float = ...) -> Sequence[Pose]: ...


class FaceDetector(Protocol):
    def detect(self, image_rgb: np.ndarray) -> FaceDetections: ...


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
        candidates = sorted(self._candidates(image_rgb), key=lambda c: -c.confidence)[:MAX_PERSONS]
        faces = [c.face for c in candidates if c.face is not None]
        masked = iter(self._face_cover.probabilities(image_rgb, faces))
        heads = [clip_box(r.box, width, height) for c in candidates for r in c.regions if r.name == HEAD]
        helmets = iter(self._helmets.probabilities(image_rgb, heads) if self._helmets and heads else [])
        persons = []
        for candidate in candidates:
            parts = []
            for region in candidate.regions:
                box = clip_box(region.box, width, height)
                found: list[Equipment] = []
                if region.name == FACE and candidate.face is not None:
                    mask = float(next(masked))
                    if mask >= EQUIPMENT_FLOOR:
                        found.append(
                            self._equipment(FACE_COVER, mask_box(candidate.face), mask, width, height)
                        )
                if region.name == HEAD and self._helmets is not None:
                    helmet = float(next(helmets))
                    if helmet >= EQUIPMENT_FLOOR:
                        found.append(self._equipment(HEAD_COVER, box, helmet, width, height))
                parts.append(BodyPart(region.name, box, region.confidence, tuple(found)))
            persons.append(Person(clip_box(candidate.box, width, height), candidate.confidence, tuple(parts)))
        return persons

    def _candidates(self, image_rgb: np.ndarray) -> list[Candidate]:
        """Persons from poses (with the face found on each) and from unclaimed faces."""
        poses = list(self._poses.estimate(image_rgb, min_score=PERSON_FLOOR))
        found = self._faces.detect(image_rgb)
        faces = [Face(found.boxes[i], float(found.scores[i]), found.points[i]) for i in range(len(found))]
        matched = match_faces(poses, faces)
        pairs: list[tuple[Pose | None, Face | None]] = [
            (pose, faces[matched[i]] if i in matched else None) for i, pose in enumerate(poses)
        ]
        claimed = set(matched.values())
        unclaimed = [f for i, f in enumerate(faces) if i not in claimed and f.score >= FACE_ONLY_MIN_SCORE]
        for rank, face in enumerate(sorted(unclaimed, key=lambda f: -f.score)):
            pairs.append((self._pose_around(image_rgb, face) if rank < MAX_SECOND_LOOKS else None, face))
        return [c for pose, face in pairs if (c := self._candidate(pose, face)) is not None]

    def _pose_around(self, image_rgb: np.ndarray, face: Face) -> Pose | None:
        """The pose of the person whose face this is, from a second look at a window
        around it: MoveNet sees the photo at 256 pixels and returns six people at
        most, so in a wide or crowded photo it misses people whose face YuNet finds."""
        height, width = image_rgb.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in face.box)
        w, h = x2 - x1, y2 - y1
        # A standing person spans about 7 face heights below the brows, 4 face widths across.
        left, top = int(max(0, x1 - 1.5 * w)), int(max(0, y1 - h))
        right, bottom = int(min(width, x2 + 1.5 * w)), int(min(height, y1 + 7 * h))
        if right - left < 32 or bottom - top < 32:
            return None
        window = np.ascontiguousarray(image_rgb[top:bottom, left:right])
        offset = np.array([left, top], np.float32)
        poses = [placed(p, offset) for p in self._poses.estimate(window, min_score=PERSON_FLOOR)]
        match = match_faces(poses, [face])
        return poses[next(iter(match))] if match else None

    @staticmethod
    def _candidate(pose: Pose | None, face: Face | None) -> Candidate | None:
        if pose is None:
            assert face is not None
            head = head_region(None, face)
            assert head is not None
            return Candidate(head.box, face_region(face).confidence, [face_region(face), head], face)
        if face is None and pose.score < POSE_ONLY_MIN_SCORE:
            return None
        regions = [face_region(face)] if face is not None else []
        head = head_region(pose, face)
        regions += ([head] if head is not None else []) + hand_regions(pose)
        box = np.asarray(pose.box, np.float32)
        if head is not None:  # the pose box may stop at the nose; the head is the person's
            box = np.concatenate([np.minimum(box[:2], head.box[:2]), np.maximum(box[2:], head.box[2:])])
        confidence = certainty(float(pose.score), PERSON_FLOOR)
        if face is not None:  # a face found on the pose is evidence of the person too
            confidence = max(confidence, face_region(face).confidence)
        return Candidate(box, confidence, regions, face)

    @staticmethod
    def _equipment(kind: str, box: np.ndarray, probability: float, width: int, height: int) -> Equipment:
        confidence = certainty(probability, EQUIPMENT_FLOOR)
        # Found by classifying the body part itself, the item is on that part by
        # construction: its coverage is as certain as its presence.
        return Equipment(kind, clip_box(box, width, height), confidence, True, confidence)


def build_inspector(store: ModelStore, runtime: RuntimeSettings) -> Inspector:
    """From the model store. PPE runs its own face detector, at a lower threshold than
    the face operations' (see body_parts.FACE_FLOOR); YuNet is 0.2 MB, a second
    session costs little."""
    from openrek.inference.labels.classifier import build_image_classifier
    from openrek.inference.people.pose import build_pose_estimator

    store.verify(["face-cover", "face-detector"])
    face_cover = FaceCoverClassifier(open_session(store.path("face-cover"), runtime))
    helmets = HelmetClassifier(build_image_classifier(store, runtime))
    face_detector = YuNetDetector(
        open_session(store.path("face-detector"), runtime), score_threshold=FACE_FLOOR
    )
    return Inspector(build_pose_estimator(store, runtime), face_detector, face_cover, helmets)

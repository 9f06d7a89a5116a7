"""Where a person's face, head and hands are, from a body pose and face detections.

- FACE: a face the face detector found, matched to the person whose pose puts
  its nose and eyes inside that face.
- HEAD: the face box widened to the ears and raised to the crown (hair, a helmet);
  without a face (a head seen from behind or the side) the ear, eye and nose
  keypoints place it.
- LEFT_HAND / RIGHT_HAND: the person's own left and right (COCO keypoints are the
  subject's, as Rekognition's hands are: facing the camera, LEFT_HAND is on the
  image's right). A hand extends past the wrist along the forearm; its box is
  centred there, sized from the forearm's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from openrek.inference.ppe.findings import (
    FACE,
    HEAD,
    LEFT_HAND,
    RIGHT_HAND,
    certainty,
)

# COCO keypoint indices (MoveNet's order).
NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR = 0, 1, 2, 3, 4
LEFT_SHOULDER, RIGHT_SHOULDER = 5, 6
LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST, RIGHT_WRIST = 7, 8, 9, 10
HEAD_KEYPOINTS = (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR)
HANDS = ((LEFT_HAND, LEFT_WRIST, LEFT_ELBOW), (RIGHT_HAND, RIGHT_WRIST, RIGHT_ELBOW))

# MoveNet keypoints are trusted from this score (the threshold its authors use to
# draw a skeleton); a body part placed by keypoints is reported from it.
KEYPOINT_FLOOR = 0.3

# Faces are looked for from this detector score (DetectFaces uses 0.6): a mask
# hides the nose and mouth YuNet relies on, and on masked composites of the eval
# photos 0.3 finds 117 of 124 faces where 0.6 finds 101. A face under 0.6 counts
# only on a person the pose model also found (inspector.py).
FACE_FLOOR = 0.3

# The hand's centre lies this far past the wrist, in forearm lengths, and its box
# is this many forearm lengths wide: an open adult hand (wrist to fingertip) is
# about 0.7 of the forearm (elbow to wrist).
HAND_OFFSET = 0.35
HAND_SIDE = 0.8


class Pose(Protocol):
    """One person from the pose estimator (openrek.inference.people.pose.PersonPose)."""

    @property
    def box(self) -> np.ndarray: ...  # x1, y1, x2, y2 pixels

    @property
    def score(self) -> float: ...

    @property
    def keypoints(self) -> np.ndarray: ...  # (17, 2) x, y pixels, COCO order

    @property
    def keypoint_scores(self) -> np.ndarray: ...  # (17,)


@dataclass(frozen=True)
class PlacedPose:
    """A pose found in a window of the image, moved to the image's pixels."""

    box: np.ndarray
    score: float
    keypoints: np.ndarray
    keypoint_scores: np.ndarray


def placed(pose: Pose, offset: np.ndarray) -> PlacedPose:
    shift = np.asarray(offset, np.float32)
    return PlacedPose(
        np.asarray(pose.box, np.float32) + np.tile(shift, 2),
        float(pose.score),
        np.asarray(pose.keypoints, np.float32) + shift,
        pose.keypoint_scores,
    )


@dataclass(frozen=True)
class Face:
    """A face from the face detector: box, score in [0, 1], five points."""

    box: np.ndarray
    score: float
    points: np.ndarray  # image-left eye, image-right eye, nose, mouth corners


@dataclass(frozen=True)
class PartRegion:
    name: str
    box: np.ndarray
    confidence: float


def _visible(pose: Pose, index: int) -> bool:
    return bool(pose.keypoint_scores[index] >= KEYPOINT_FLOOR)


def _inside(point: np.ndarray, box: np.ndarray, margin: float) -> bool:
    w, h = box[2] - box[0], box[3] - box[1]
    return bool(
        box[0] - margin * w <= point[0] <= box[2] + margin * w
        and box[1] - margin * h <= point[1] <= box[3] + margin * h
    )


def head_anchor(pose: Pose) -> np.ndarray:
    """Where the pose puts the head: its head keypoints averaged by their scores.

    MoveNet places a small head well even when it scores it low (a face 12 pixels
    wide on its 256-pixel input), so every head keypoint counts, the confident ones
    more.
    """
    weights = np.maximum(pose.keypoint_scores[list(HEAD_KEYPOINTS)], 0.05)
    return np.asarray(
        (pose.keypoints[list(HEAD_KEYPOINTS)] * weights[:, None]).sum(0) / weights.sum(), np.float32
    )


def match_faces(poses: Sequence[Pose], faces: Sequence[Face]) -> dict[int, int]:
    """pose index -> face index, each used at most once.

    A face belongs to a pose whose head lies within one face width of the face's
    centre, and inside whose box the face lies; the closest pairs are matched first.
    """
    candidates = []
    for p, pose in enumerate(poses):
        anchor = head_anchor(pose)
        for f, face in enumerate(faces):
            face_centre = (face.box[:2] + face.box[2:]) / 2
            size = max(float(face.box[2] - face.box[0]), 1.0)
            gap = float(np.linalg.norm(anchor - face_centre)) / size
            if gap < 1.0 and _inside(face_centre, pose.box, 0.1):
                candidates.append((gap, p, f))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, p, f in sorted(candidates):
        if p not in matched and f not in used:
            matched[p] = f
            used.add(f)
    return matched


def face_region(face: Face) -> PartRegion:
    return PartRegion(FACE, face.box.astype(np.float32), certainty(face.score, FACE_FLOOR))


def head_region(pose: Pose | None, face: Face | None) -> PartRegion | None:
    if face is not None:
        x1, y1, x2, y2 = (float(v) for v in face.box)
        w, h = x2 - x1, y2 - y1
        # A face box runs from the brows to the chin; the skull rises about half a
        # face above the brows, and the head is a little wider than the face.
        box = np.array([x1 - 0.15 * w, y1 - 0.5 * h, x2 + 0.15 * w, y2 + 0.05 * h], np.float32)
        if pose is not None:
            for ear in (LEFT_EAR, RIGHT_EAR):
                if _visible(pose, ear) and _inside(pose.keypoints[ear], box, 0.3):
                    box[0] = min(box[0], pose.keypoints[ear][0])
                    box[2] = max(box[2], pose.keypoints[ear][0])
        return PartRegion(HEAD, box, certainty(face.score, FACE_FLOOR))
    if pose is None:
        return None
    seen = [i for i in HEAD_KEYPOINTS if _visible(pose, i)]
    if len(seen) < 2:
        return None
    points = pose.keypoints[seen]
    spread = float(np.max(np.ptp(points, axis=0)))
    if _visible(pose, LEFT_SHOULDER) and _visible(pose, RIGHT_SHOULDER):
        # A head is about half as wide as the shoulders.
        spread = max(
            spread,
            0.5 * float(np.linalg.norm(pose.keypoints[LEFT_SHOULDER] - pose.keypoints[RIGHT_SHOULDER])),
        )
    side = max(spread * 1.4, 8.0)
    cx, cy = points.mean(axis=0)
    box = np.array([cx - side / 2, cy - 0.65 * side, cx + side / 2, cy + 0.45 * side], np.float32)
    score = float(np.mean(pose.keypoint_scores[seen]))
    return PartRegion(HEAD, box, certainty(score, KEYPOINT_FLOOR))


def hand_regions(pose: Pose) -> list[PartRegion]:
    regions = []
    for name, wrist_index, elbow_index in HANDS:
        if not _visible(pose, wrist_index):
            continue
        wrist = pose.keypoints[wrist_index].astype(np.float32)
        if _visible(pose, elbow_index):
            forearm = wrist - pose.keypoints[elbow_index].astype(np.float32)
            length = float(np.linalg.norm(forearm))
            centre = wrist + HAND_OFFSET * forearm
        else:
            # No elbow: size the hand from the person's box, centred on the wrist.
            length = 0.12 * float(max(pose.box[3] - pose.box[1], pose.box[2] - pose.box[0]))
            centre = wrist
        half = max(HAND_SIDE * length / 2, 4.0)
        box = np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half], np.float32)
        score = float(pose.keypoint_scores[wrist_index])
        regions.append(PartRegion(name, box, certainty(score, KEYPOINT_FLOOR)))
    return regions


def clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.array(
        [
            np.clip(box[0], 0, width),
            np.clip(box[1], 0, height),
            np.clip(box[2], 0, width),
            np.clip(box[3], 0, height),
        ],
        np.float32,
    )

"""Which person in this sampled frame is which person of the frames before, and whose
face is whose.

The tracker is ByteTrack from Roboflow's `trackers` package (Apache-2.0): a Kalman
filter predicts where each person's box moves, then boxes are matched to tracks by
overlap with the Hungarian method, confident boxes first and low-scoring ones only to
continue existing tracks. A track needs `confirm_frames` sightings before it gets an
Index, so one stray box never becomes a person.

Rekognition's Index counts from 0 in the order people are first seen, per video;
the tracker's own ids are turned into that.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

# trackers 2.1.0 hands out track ids from a counter that every ByteTrackTracker
# shares (a class attribute, incremented unguarded): jobs on parallel worker threads
# update their trackers one at a time so that no two tracks receive the same id.
# An update is cheap next to a detector run.
_TRACKER_IDS = threading.Lock()

# Only a box scoring this much may start a track (NanoDet puts traffic cones and
# bins at 0.2-0.35, walkers from 0.4); lower boxes may only continue one.
START_SCORE = 0.4
# Boxes scoring this much are matched first (ByteTrack's "high" set).
CONFIDENT_SCORE = 0.5
# A walker hidden behind a post or another walker for this long keeps the Index.
PATIENCE_SECONDS = 2.0
# Sightings a track needs (consecutive sampled frames) before it is a person.
CONFIRM_FRAMES = 2
# Minimum overlap (IoU) of a box with a track's predicted box to continue it.
MIN_OVERLAP = 0.1


@dataclass(frozen=True)
class TrackedPerson:
    index: int
    box: np.ndarray  # float32 x1, y1, x2, y2 in pixels
    score: float


class PersonTracks:
    """Follows people across the sampled frames of one video; one instance per job."""

    def __init__(self, frames_per_second: float) -> None:
        from trackers import ByteTrackTracker

        # trackers counts its patience in frames at 30 fps, scaled by frame_rate/30.
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(PATIENCE_SECONDS * 30)),
            frame_rate=frames_per_second,
            track_activation_threshold=START_SCORE,
            minimum_consecutive_frames=CONFIRM_FRAMES,
            minimum_iou_threshold=MIN_OVERLAP,
            high_conf_det_threshold=CONFIDENT_SCORE,
        )
        self._indices: dict[int, int] = {}

    def update(self, boxes: np.ndarray, scores: np.ndarray) -> list[TrackedPerson]:
        """The confirmed people among this frame's boxes, by Index."""
        import supervision as sv

        detections = sv.Detections(
            xyxy=np.asarray(boxes, np.float32).reshape(-1, 4),
            confidence=np.asarray(scores, np.float32).reshape(-1),
            class_id=np.zeros(len(scores), int),
        )
        with _TRACKER_IDS:
            tracked = self._tracker.update(detections)
        people = []
        for box, score, track_id in zip(tracked.xyxy, tracked.confidence, tracked.tracker_id, strict=True):
            if track_id < 0:  # a box no confirmed track holds
                continue
            index = self._indices.setdefault(int(track_id), len(self._indices))
            people.append(TrackedPerson(index, box.astype(np.float32), float(score)))
        return sorted(people, key=lambda person: person.index)


# A face belongs to a person when its centre lies in the person's box, within the
# top part of it where a head is (a person stooping or cut by the frame edge still
# has the head in the top half).
HEAD_PART = 0.5


def faces_of_people(people: np.ndarray, faces: np.ndarray) -> dict[int, int]:
    """person position -> face position, for the faces that sit on a person's head.

    Each face goes to at most one person and each person gets at most one face:
    pairs are taken best first, the best being the face whose centre is nearest the
    top centre of the person's box relative to the box's size (the head of a
    person standing in front of another is nearer their own box's top).
    """
    candidates = []
    for p, (x1, y1, x2, y2) in enumerate(np.asarray(people, np.float32).reshape(-1, 4)):
        width, height = max(x2 - x1, 1e-6), max(y2 - y1, 1e-6)
        for f, face in enumerate(np.asarray(faces, np.float32).reshape(-1, 4)):
            cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
            if not (x1 <= cx <= x2 and y1 <= cy <= y1 + HEAD_PART * height):
                continue
            # Faces wider than the person's box are someone else's (a close-up).
            if face[2] - face[0] > 1.2 * width:
                continue
            distance = abs(cx - (x1 + x2) / 2) / width + (cy - y1) / height
            candidates.append((float(distance), p, f))
    pairs: dict[int, int] = {}
    used_faces: set[int] = set()
    for _, p, f in sorted(candidates):
        if p in pairs or f in used_faces:
            continue
        pairs[p] = f
        used_faces.add(f)
    return pairs

"""Person Description labels (Adult, Man, Woman, Male, Female, Child, Boy, Girl, Teen,
Baby, Crowd) from what the server already measures.

No registry model names people's age or gender over a whole photo, but DetectFaces
does it per face: the Cydral age and gender networks (faces/age_gender.py) on each
face the labeler keeps, and the labeler counts people (person boxes or faces).

Body keypoints (MoveNet, people/pose.py) for Hand and Clothing were tried: on the
tuning photos they added no right label and cost a model run (docs/labels.md).

Each raw score is a probability-like number in [0, 1] read from one model; whether
it means "right 90% of the time" at 55 is left to the per-label calibration fitted on
the tuning photos (calibration.py), like every other label. A photo's score is the
largest over its people: a photo of a man and a child is both "Man" and "Child".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from openrek.inference.faces.age_gender import AgeGender

ADULT_AGE = 18  # Adult, Man, Woman
TEEN_AGES = (13, 19)
CHILD_AGE = 13  # Child, Boy, Girl: under this
BABY_AGE = 3  # Baby: under this
MAX_DESCRIBED_FACES = 5  # age and gender run on the largest faces only (each costs a few ms)
# A crowd is many people: the raw score grows from 0 at CROWD_FROM people to 1 at
# CROWD_FULL; calibration decides where 55 lies.
CROWD_FROM, CROWD_FULL = 3, 13
PEOPLE_LABELS = (
    "Adult",
    "Man",
    "Woman",
    "Male",
    "Female",
    "Child",
    "Boy",
    "Girl",
    "Teen",
    "Baby",
    "Crowd",
)


@dataclass(frozen=True)
class FaceDescription:
    """One face's age distribution and gender, as DetectFaces measures them."""

    detector_score: float  # 0..1
    age_probabilities: np.ndarray  # (81,) over 0 (under a year) .. 80+ years
    male_probability: float

    def share_of_ages(self, low: int, high: int) -> float:
        """Probability that the face is at least `low` and under `high` years old."""
        return float(self.age_probabilities[max(low, 0) : max(high, 0)].sum())


def face_describer(age_gender: AgeGender) -> Callable[[np.ndarray, np.ndarray], FaceDescription]:
    """DetectFaces' age and gender networks as the labeler's describe_face: (photo,
    the detector's five points) -> FaceDescription (the labeler sets the score)."""

    def describe(rgb: np.ndarray, points: np.ndarray) -> FaceDescription:
        found = age_gender.predict(rgb, points)
        return FaceDescription(1.0, found.age_probabilities, found.male_probability)

    return describe


def describe_faces(faces: Sequence[FaceDescription]) -> dict[str, float]:
    """Raw scores of the age and gender labels: for each label its surest face, each
    face's answer weighted by how sure the detector is that it is a face."""
    scores: dict[str, float] = {}

    def offer(label: str, value: float) -> None:
        scores[label] = max(scores.get(label, 0.0), float(np.clip(value, 0.0, 1.0)))

    for face in faces:
        male = face.male_probability
        adult = face.share_of_ages(ADULT_AGE, 200)
        child = face.share_of_ages(0, CHILD_AGE)
        sure = face.detector_score
        offer("Male", sure * male)
        offer("Female", sure * (1.0 - male))
        offer("Adult", sure * adult)
        offer("Man", sure * adult * male)
        offer("Woman", sure * adult * (1.0 - male))
        offer("Child", sure * child)
        offer("Boy", sure * child * male)
        offer("Girl", sure * child * (1.0 - male))
        offer("Teen", sure * face.share_of_ages(TEEN_AGES[0], TEEN_AGES[1] + 1))
        offer("Baby", sure * face.share_of_ages(0, BABY_AGE))
    return scores


def crowd_score(people: int) -> float:
    """Raw Crowd score of a photo holding `people` people (boxes or faces, the larger)."""
    return float(np.clip((people - CROWD_FROM) / (CROWD_FULL - CROWD_FROM), 0.0, 1.0))

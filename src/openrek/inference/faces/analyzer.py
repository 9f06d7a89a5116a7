"""Everything openrek measures about faces, composed from the individual models.

Only the models an answer needs are run: DetectFaces with DEFAULT attributes runs
the detector and the mesh; age, emotion and appearance run only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from openrek.inference.faces.age_gender import AgeGender, AgeGenderResult
from openrek.inference.faces.appearance import Appearance, measure_appearance
from openrek.inference.faces.detector import YuNetDetector, refine_points
from openrek.inference.faces.emotion import EmotionClassifier
from openrek.inference.faces.mesh import FaceMesh, MeshResult
from openrek.inference.faces.pose import head_pose
from openrek.inference.faces.quality import FaceQuality, measure_quality


class Need(Enum):
    """Groups of attributes, each served by one model or measurement."""

    AGE_GENDER = "age_gender"
    EMOTION = "emotion"
    APPEARANCE = "appearance"
    # Five points precise enough to align a face crop on (age, appearance, identity):
    # the detector runs again on a window around each face (detector.refine_points).
    ALIGNMENT = "alignment"


@dataclass(frozen=True)
class FaceAnalysis:
    box: np.ndarray  # x1, y1, x2, y2 in pixels
    score: float  # detector score in [0, 1]
    points: np.ndarray  # (5, 2) detector points, refined when Need.ALIGNMENT was asked
    mesh: MeshResult
    pose: tuple[float, float, float]  # roll, yaw, pitch in degrees
    quality: FaceQuality
    age_gender: AgeGenderResult | None = None
    emotions: dict[str, float] | None = None
    appearance: Appearance | None = None

    @property
    def area(self) -> float:
        return float((self.box[2] - self.box[0]) * (self.box[3] - self.box[1]))


class FaceAnalyzer:
    def __init__(
        self,
        detector: YuNetDetector,
        mesh: FaceMesh,
        age_gender: AgeGender,
        emotion: EmotionClassifier,
    ) -> None:
        self.detector = detector
        self.mesh = mesh
        self.age_gender = age_gender
        self.emotion = emotion

    def analyze(
        self, image_rgb: np.ndarray, needs: frozenset[Need], max_faces: int = 100
    ) -> list[FaceAnalysis]:
        """The `max_faces` largest faces, largest first."""
        found = self.detector.detect(image_rgb)
        areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
        largest = np.argsort(-areas, kind="stable")[:max_faces]
        return [
            self._analyze_one(image_rgb, found.boxes[i], float(found.scores[i]), found.points[i], needs)
            for i in largest
        ]

    def aligned_points(self, image_rgb: np.ndarray, face: FaceAnalysis) -> np.ndarray:
        """Five points of an already analysed face, refined as Need.ALIGNMENT would."""
        return refine_points(self.detector.detect, image_rgb, face.box, face.points)

    def _analyze_one(
        self,
        image_rgb: np.ndarray,
        box: np.ndarray,
        score: float,
        points: np.ndarray,
        needs: frozenset[Need],
    ) -> FaceAnalysis:
        if Need.ALIGNMENT in needs:
            points = refine_points(self.detector.detect, image_rgb, box, points)
        box_tuple = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        eyes = ((float(points[0, 0]), float(points[0, 1])), (float(points[1, 0]), float(points[1, 1])))
        mesh = self.mesh.predict(image_rgb, box_tuple, eyes)
        return FaceAnalysis(
            box=box,
            score=score,
            points=points,
            mesh=mesh,
            pose=head_pose(mesh.points),
            quality=measure_quality(image_rgb, box_tuple),
            age_gender=(self.age_gender.predict(image_rgb, points) if Need.AGE_GENDER in needs else None),
            emotions=self.emotion.predict(image_rgb, box_tuple) if Need.EMOTION in needs else None,
            appearance=(
                measure_appearance(image_rgb, box_tuple, points) if Need.APPEARANCE in needs else None
            ),
        )

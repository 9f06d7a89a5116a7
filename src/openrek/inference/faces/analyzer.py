"""Everything openrek measures about faces, composed from the individual models.

Only the models an answer needs are run: DetectFaces with DEFAULT attributes runs
the detector and the landmark mesh; blendshapes, age, emotion and appearance run only
when asked for. The mesh of all faces of a photo is one batched invocation.

With `turned=True`, a photo whose upright pass leaves doubt (no face, or as many
faces the mesh does not confirm as faces it does) is searched again in its three quarter turns (a photo stored
sideways or upside down, with no EXIF orientation to say so); faces found there are
analysed in the turned copy, where they are upright, and their geometry is mapped back
to the stored image (rotation.py). Photos whose faces are all confirmed upright, the
usual case, pay nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

import cv2
import numpy as np

from openrek.inference.faces.age_gender import AgeGender, AgeGenderResult
from openrek.inference.faces.appearance import Appearance, measure, measure_appearance
from openrek.inference.faces.appearance_head import with_learned_heads
from openrek.inference.faces.detector import FaceDetections, YuNetDetector, refine_points
from openrek.inference.faces.embedder import FaceEmbedder
from openrek.inference.faces.emotion import EmotionClassifier
from openrek.inference.faces.mesh import FaceMesh, MeshResult
from openrek.inference.faces.pose import head_pose
from openrek.inference.faces.quality import FaceQuality, measure_quality
from openrek.inference.faces.rotation import boxes_to_stored, detect_turned, points_to_stored, turn

# Quarter turns tried when the upright pass leaves doubt. All are tried; the one whose
# most confident detection scores highest is analysed.
TURNS_TRIED = (1, 3, 2)
# The mesh's face presence at which a detection counts as a confirmed face. A face the
# detector finds sideways or upside down gets a crop the wrong way round, and the mesh
# then mostly answers below 0.05; upright faces of the evaluation photos score 0.96-1.0,
# with exceptions in strong profile (bench/results/detect_faces.md, turned photos).
CONFIRMED_PRESENCE = 0.5
# Each turn is one more chance for the detector to see a face in something else (a cup,
# a fish): faces from a turn must clear a higher score than the detector's 0.6. Upright
# faces of the labelled evaluation photos score 0.80-0.95; the false ones that turns
# of the photos without faces gave scored 0.59-0.84, most under 0.75.
TURNED_MIN_SCORE = 0.75
# The turns are searched at half the detector's canvas (320 px on the longer side), a
# quarter of its work: a photo the upright pass found nothing in costs four passes, not
# four full ones. Faces in a turned photo worth turning it for are seldom tiny.
TURN_CANVAS = 320


class Need(Enum):
    """Groups of attributes, each served by one model or measurement."""

    AGE_GENDER = "age_gender"
    EMOTION = "emotion"
    APPEARANCE = "appearance"
    # Eyeglasses: the learned head (appearance_head), which needs the SFace embedding
    # (~5-10 ms a face), so it runs only when Eyeglasses is asked for.
    LEARNED_APPEARANCE = "learned_appearance"
    # Smile and eyes open: the blendshape model, a second invocation per face.
    EXPRESSION = "expression"
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
    # Quarter turns (numpy.rot90) that showed this face upright; 0 for the usual photo.
    # Every position above is in the stored image's frame whatever this is.
    turns: int = 0

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
        appearance_embedder: FaceEmbedder | None = None,
    ) -> None:
        self.detector = detector
        # SFace (FaceModelVersion 1.0) for the learned appearance heads; None keeps the
        # measurements.
        self.appearance_embedder = appearance_embedder
        self._turn_detector = detector.at_canvas(TURN_CANVAS)
        self.mesh = mesh
        self.age_gender = age_gender
        self.emotion = emotion

    def analyze(
        self,
        image_rgb: np.ndarray,
        needs: frozenset[Need],
        max_faces: int = 100,
        turned: bool = False,
    ) -> list[FaceAnalysis]:
        """The `max_faces` largest faces, largest first.

        `turned`: where the upright pass leaves doubt (no face, or no more faces the mesh
        confirms than faces it does not), look in the photo's quarter turns too, and answer from the turn
        whose faces the mesh confirms more often than the upright ones.
        """
        faces = self._analyze_found(image_rgb, self.detector.detect(image_rgb), needs, max_faces)
        if not turned or not _in_doubt(faces):
            return faces
        turns, turned_rgb, found = self._best_turn(image_rgb)
        if not turns:
            return faces
        turned_faces = self._analyze_found(turned_rgb, found, needs, max_faces)
        if _confirmed(turned_faces) <= _confirmed(faces):
            return faces
        height, width = image_rgb.shape[:2]
        return [_to_stored(face, turns, width, height) for face in turned_faces]

    def aligned_points(self, image_rgb: np.ndarray, face: FaceAnalysis) -> np.ndarray:
        """Five points of an already analysed face, refined as Need.ALIGNMENT would."""
        detect = detect_turned(self.detector.detect, face.turns) if face.turns else self.detector.detect
        return refine_points(detect, image_rgb, face.box, face.points)

    def _best_turn(self, image_rgb: np.ndarray) -> tuple[int, np.ndarray, FaceDetections]:
        """The quarter turn whose most confident face scores highest, the image so
        turned and its faces (in that image's pixels); turn 0 where no turn shows one.

        The turns are searched on one copy already shrunk to TURN_CANVAS: turning and
        shrinking a 12 Mpx photo three times would cost more than the detector runs."""
        height, width = image_rgb.shape[:2]
        scale = min(1.0, self._turn_detector.canvas / max(height, width))
        small = image_rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(image_rgb, size, interpolation=cv2.INTER_AREA)
        best_turns = 0
        best = FaceDetections(
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
        )
        for turns in TURNS_TRIED:
            found = self._turn_detector.detect(turn(small, turns))
            strong = found.scores >= TURNED_MIN_SCORE
            if strong.any() and (len(best) == 0 or found.scores[strong].max() > best.scores.max()):
                best_turns = turns
                best = FaceDetections(
                    found.boxes[strong] / scale, found.scores[strong], found.points[strong] / scale
                )
        if not best_turns:
            return 0, image_rgb, best
        return best_turns, turn(image_rgb, best_turns), best

    def _analyze_found(
        self, image_rgb: np.ndarray, found: FaceDetections, needs: frozenset[Need], max_faces: int
    ) -> list[FaceAnalysis]:
        areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
        largest = np.argsort(-areas, kind="stable")[:max_faces]
        boxes = [found.boxes[i] for i in largest]
        points = [found.points[i] for i in largest]
        if Need.ALIGNMENT in needs:
            points = [
                refine_points(self.detector.detect, image_rgb, b, p)
                for b, p in zip(boxes, points, strict=True)
            ]
        box_tuples = [(float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in boxes]
        eyes = [((float(p[0, 0]), float(p[0, 1])), (float(p[1, 0]), float(p[1, 1]))) for p in points]
        meshes = self.mesh.predict_many(
            image_rgb, list(zip(box_tuples, eyes, strict=True)), blendshapes=Need.EXPRESSION in needs
        )
        return [
            self._analyze_one(image_rgb, boxes[n], float(found.scores[i]), points[n], meshes[n], needs)
            for n, i in enumerate(largest)
        ]

    def _analyze_one(
        self,
        image_rgb: np.ndarray,
        box: np.ndarray,
        score: float,
        points: np.ndarray,
        mesh: MeshResult,
        needs: frozenset[Need],
    ) -> FaceAnalysis:
        box_tuple = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        return FaceAnalysis(
            box=box,
            score=score,
            points=points,
            mesh=mesh,
            pose=head_pose(mesh.points),
            quality=measure_quality(image_rgb, box_tuple),
            age_gender=(self.age_gender.predict(image_rgb, points) if Need.AGE_GENDER in needs else None),
            emotions=self.emotion.predict(image_rgb, box_tuple) if Need.EMOTION in needs else None,
            appearance=self._appearance(image_rgb, box_tuple, points, needs),
        )

    def _appearance(
        self,
        image_rgb: np.ndarray,
        box: tuple[float, float, float, float],
        points: np.ndarray,
        needs: frozenset[Need],
    ) -> Appearance | None:
        if Need.APPEARANCE not in needs:
            return None
        if Need.LEARNED_APPEARANCE not in needs:
            return measure_appearance(image_rgb, box, points)
        return with_learned_heads(measure(image_rgb, points), image_rgb, points, self.appearance_embedder)


def _to_stored(face: FaceAnalysis, turns: int, width: int, height: int) -> FaceAnalysis:
    """A face analysed in the image turned by `turns`, placed in the stored image.

    Measurements of the face itself (scores, quality, age, emotions, appearance,
    blendshapes) do not depend on the frame; positions are mapped, and the pose is
    measured again from the mapped mesh so that its roll is the face's roll in the
    stored image.
    """
    points = points_to_stored(face.mesh.points, turns, width, height)
    mesh = MeshResult(points=points, presence=face.mesh.presence, blendshapes=face.mesh.blendshapes)
    return replace(
        face,
        box=boxes_to_stored(face.box[None], turns, width, height)[0],
        points=points_to_stored(face.points, turns, width, height),
        mesh=mesh,
        pose=head_pose(points),
        turns=turns,
    )


def _confirmed(faces: list[FaceAnalysis]) -> int:
    return sum(face.mesh.presence >= CONFIRMED_PRESENCE for face in faces)


def _in_doubt(faces: list[FaceAnalysis]) -> bool:
    """No face found, or as many faces the mesh does not confirm as faces it does: the
    photo may be stored turned. A photo whose faces are mostly confirmed, the usual
    case, pays nothing for turns (a stray unconfirmed detection beside real faces is
    more often a false face than a sign of a turned photo)."""
    return not faces or 2 * _confirmed(faces) <= len(faces)

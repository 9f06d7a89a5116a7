"""FaceAnalysis -> Rekognition's FaceDetail, shared by every face operation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from openrek.inference.faces.analyzer import FaceAnalysis, Need
from openrek.inference.faces.expression import (
    eyes_open_probability,
    mouth_open_probability,
    smile_probability,
)

# Rekognition's landmarks named from the viewer's side: eyeLeft is the eye on the
# image's left. Numbers index MediaPipe's 478-point mesh, whose "left" is the
# subject's, so image-left features take the mesh's subject-right indices.
MESH_LANDMARKS: dict[str, int | tuple[int, int]] = {
    "eyeLeft": (33, 133),
    "eyeRight": (362, 263),
    "leftPupil": 468,
    "rightPupil": 473,
    "leftEyeLeft": 33,
    "leftEyeRight": 133,
    "leftEyeUp": 159,
    "leftEyeDown": 145,
    "rightEyeLeft": 362,
    "rightEyeRight": 263,
    "rightEyeUp": 386,
    "rightEyeDown": 374,
    "leftEyeBrowLeft": 70,
    "leftEyeBrowRight": 107,
    "leftEyeBrowUp": 105,
    "rightEyeBrowLeft": 336,
    "rightEyeBrowRight": 300,
    "rightEyeBrowUp": 334,
    "nose": 1,
    "noseLeft": 98,
    "noseRight": 327,
    "mouthLeft": 61,
    "mouthRight": 291,
    "mouthUp": 0,
    "mouthDown": 17,
    "chinBottom": 152,
    "upperJawlineLeft": 234,
    "midJawlineLeft": 172,
    "midJawlineRight": 397,
    "upperJawlineRight": 454,
}

# FER2013 classes -> Rekognition's emotion types. Rekognition's CONFUSED has no
# counterpart in any model in the registries, so it is never reported.
EMOTION_NAMES = {
    "angry": "ANGRY",
    "disgust": "DISGUSTED",
    "fear": "FEAR",
    "happy": "HAPPY",
    "sad": "SAD",
    "surprise": "SURPRISED",
    "neutral": "CALM",
}

ATTRIBUTE_NEEDS: dict[str, Need | None] = {
    "AGE_RANGE": Need.AGE_GENDER,
    "GENDER": Need.AGE_GENDER,
    "EMOTIONS": Need.EMOTION,
    "EYEGLASSES": Need.LEARNED_APPEARANCE,
    "SUNGLASSES": Need.APPEARANCE,
    "BEARD": Need.APPEARANCE,
    "MUSTACHE": Need.APPEARANCE,
    "FACE_OCCLUDED": Need.APPEARANCE,
    # Blendshapes: a second model per face, run only when one of these is asked for.
    "SMILE": Need.EXPRESSION,
    "EYES_OPEN": Need.EXPRESSION,
    # Measured on the landmark mesh (lips, iris), which always runs.
    "MOUTH_OPEN": None,
    "EYE_DIRECTION": None,
}
ALL_ATTRIBUTES = frozenset(ATTRIBUTE_NEEDS)

# Eyeball radius as a fraction of the eye's corner-to-corner width (about 12 mm of
# 30 mm in adults), used to turn the iris offset into a gaze angle.
EYEBALL_RADIUS_PER_EYE_WIDTH = 0.4


def requested_attributes(attributes: list[str] | None) -> frozenset[str]:
    """AWS semantics: absent or DEFAULT -> none extra; ALL (with anything) -> all."""
    chosen = set(attributes or ["DEFAULT"])
    if "ALL" in chosen:
        return ALL_ATTRIBUTES
    return frozenset(chosen - {"DEFAULT"})


def needs_for(attributes: frozenset[str]) -> frozenset[Need]:
    needs = {n for a in attributes if (n := ATTRIBUTE_NEEDS[a]) is not None}
    # Eyeglasses starts from the measurements and replaces its own by the learned head.
    if Need.LEARNED_APPEARANCE in needs:
        needs.add(Need.APPEARANCE)
    # Age, gender and appearance read a crop aligned on the five points.
    if needs & {Need.AGE_GENDER, Need.APPEARANCE}:
        needs.add(Need.ALIGNMENT)
    return frozenset(needs)


def _percent(value: float) -> float:
    return float(min(100.0, max(0.0, value * 100.0)))


def _binary(probability: float) -> dict[str, Any]:
    """A yes/no attribute from a probability: Value and the confidence in that value."""
    value = probability >= 0.5
    return {"Value": bool(value), "Confidence": _percent(probability if value else 1 - probability)}


def ratio_box(box: np.ndarray, width: int, height: int) -> dict[str, float]:
    return {
        "Width": float((box[2] - box[0]) / width),
        "Height": float((box[3] - box[1]) / height),
        "Left": float(box[0] / width),
        "Top": float(box[1] / height),
    }


def _landmarks(points: np.ndarray, width: int, height: int) -> list[dict[str, Any]]:
    out = []
    for name, index in MESH_LANDMARKS.items():
        xy = points[list(index), :2].mean(0) if isinstance(index, tuple) else points[index, :2]
        out.append({"Type": name, "X": float(xy[0] / width), "Y": float(xy[1] / height)})
    return out


def _eye_direction(points: np.ndarray, confidence: float) -> dict[str, float]:
    """Gaze relative to the head, from where each iris sits between its eye corners."""
    yaws, pitches = [], []
    for outer, inner, upper, lower, iris in ((33, 133, 159, 145, 468), (263, 362, 386, 374, 473)):
        corner_a, corner_b = points[outer, :2], points[inner, :2]
        centre = (corner_a + corner_b + points[upper, :2] + points[lower, :2]) / 4
        axis = corner_b - corner_a if outer == 33 else corner_a - corner_b  # points image-right
        eye_width = float(np.linalg.norm(axis))
        if eye_width < 1e-6:
            continue
        right = axis / eye_width
        down = np.array([-right[1], right[0]])
        offset = points[iris, :2] - centre
        radius = EYEBALL_RADIUS_PER_EYE_WIDTH * eye_width
        yaws.append(math.degrees(math.asin(float(np.clip(offset @ right / radius, -1, 1)))))
        pitches.append(-math.degrees(math.asin(float(np.clip(offset @ down / radius, -1, 1)))))
    return {
        "Yaw": float(np.mean(yaws)) if yaws else 0.0,
        "Pitch": float(np.mean(pitches)) if pitches else 0.0,
        "Confidence": confidence,
    }


def face_detail(face: FaceAnalysis, width: int, height: int, attributes: frozenset[str]) -> dict[str, Any]:
    roll, yaw, pitch = face.pose
    detail: dict[str, Any] = {
        "BoundingBox": ratio_box(face.box, width, height),
        "Landmarks": _landmarks(face.mesh.points, width, height),
        "Pose": {"Roll": float(roll), "Yaw": float(yaw), "Pitch": float(pitch)},
        "Quality": {
            "Brightness": float(face.quality.brightness),
            "Sharpness": float(face.quality.sharpness),
        },
        "Confidence": _percent(face.score),
    }
    if "AGE_RANGE" in attributes and face.age_gender is not None:
        detail["AgeRange"] = {"Low": int(face.age_gender.age_low), "High": int(face.age_gender.age_high)}
    if "GENDER" in attributes and face.age_gender is not None:
        male = face.age_gender.male_probability
        detail["Gender"] = {
            "Value": "Male" if male >= 0.5 else "Female",
            "Confidence": _percent(max(male, 1 - male)),
        }
    if "SMILE" in attributes:
        detail["Smile"] = _binary(smile_probability(face.mesh))
    if "EYES_OPEN" in attributes:
        detail["EyesOpen"] = _binary(eyes_open_probability(face.mesh))
    if "MOUTH_OPEN" in attributes:
        detail["MouthOpen"] = _binary(mouth_open_probability(face.mesh))
    if "EYE_DIRECTION" in attributes:
        detail["EyeDirection"] = _eye_direction(face.mesh.points, _percent(face.mesh.presence))
    if "EMOTIONS" in attributes and face.emotions is not None:
        detail["Emotions"] = sorted(
            ({"Type": EMOTION_NAMES[k], "Confidence": _percent(v)} for k, v in face.emotions.items()),
            key=lambda e: -e["Confidence"],
        )
    if face.appearance is not None:
        look = face.appearance
        for name, key, probability in (
            ("EYEGLASSES", "Eyeglasses", look.eyeglasses),
            ("SUNGLASSES", "Sunglasses", look.sunglasses),
            ("BEARD", "Beard", look.beard),
            ("MUSTACHE", "Mustache", look.mustache),
            ("FACE_OCCLUDED", "FaceOccluded", look.occluded),
        ):
            if name in attributes:
                detail[key] = _binary(probability)
    return detail

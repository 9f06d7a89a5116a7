"""QualityFilter: which faces are good enough to index or search, and why not.

Rekognition does not publish its thresholds; openrek's are stated here so users
can reason about them. AUTO (IndexFaces' default) equals LOW. Each number is on
the scale openrek reports for the same quantity (docs/models.md):
- LOW_CONFIDENCE: detector score (FaceDetail.Confidence / 100)
- SMALL_BOUNDING_BOX: shorter side of the face box in pixels
- EXTREME_POSE: the larger of |Yaw| and |Pitch|, degrees
- LOW_SHARPNESS / LOW_BRIGHTNESS: Quality.Sharpness / Quality.Brightness, 0-100
- LOW_FACE_QUALITY: the face mesh's face-presence score, 0-1 (low when the crop
  does not look like a face to the landmark model: heavy blur, occlusion, artefacts)
"""

from __future__ import annotations

from dataclasses import dataclass

from openrek.inference.faces.analyzer import FaceAnalysis


@dataclass(frozen=True)
class QualityBar:
    min_score: float
    min_side_px: float
    max_pose_degrees: float
    min_sharpness: float
    min_brightness: float
    max_brightness: float
    min_presence: float


LOW = QualityBar(0.65, 20, 60, 8, 8, 98, 0.1)
BARS = {
    "LOW": LOW,
    "AUTO": LOW,
    "MEDIUM": QualityBar(0.75, 32, 45, 20, 15, 95, 0.5),
    "HIGH": QualityBar(0.85, 48, 30, 35, 25, 90, 0.9),
}


def rejection_reasons(face: FaceAnalysis, quality_filter: str) -> list[str]:
    """Rekognition's reasons this face falls below the filter; empty if it passes."""
    bar = BARS.get(quality_filter)
    if bar is None:  # NONE
        return []
    reasons = []
    if face.score < bar.min_score:
        reasons.append("LOW_CONFIDENCE")
    if min(face.box[2] - face.box[0], face.box[3] - face.box[1]) < bar.min_side_px:
        reasons.append("SMALL_BOUNDING_BOX")
    _roll, yaw, pitch = face.pose
    if max(abs(yaw), abs(pitch)) > bar.max_pose_degrees:
        reasons.append("EXTREME_POSE")
    if face.quality.sharpness < bar.min_sharpness:
        reasons.append("LOW_SHARPNESS")
    if not bar.min_brightness <= face.quality.brightness <= bar.max_brightness:
        reasons.append("LOW_BRIGHTNESS")
    if face.mesh.presence < bar.min_presence:
        reasons.append("LOW_FACE_QUALITY")
    return reasons


def quality_rank(face: FaceAnalysis) -> float:
    """Higher is better: how IndexFaces' MaxFaces chooses which faces to keep."""
    return face.score * face.mesh.presence * min(1.0, face.quality.sharpness / 50.0)

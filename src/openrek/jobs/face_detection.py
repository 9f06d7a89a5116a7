"""StartFaceDetection's work: faces in frames sampled from the video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.jobs.rates import results_per_frame
from openrek.jobs.store import Job
from openrek.operations.face_detail import face_detail, needs_for, requested_attributes
from openrek.video.decode import SampledFrame

if TYPE_CHECKING:
    from openrek.services import Services

MAX_FACES_PER_FRAME = 100


def detect_faces_in_video(services: Services, job: Job) -> dict[str, Any]:
    attributes = requested_attributes([job.request.get("FaceAttributes", "DEFAULT")])
    needs = needs_for(attributes)

    def faces_of(frame: SampledFrame) -> list[dict[str, Any]]:
        height, width = frame.rgb.shape[:2]
        return [
            {"Timestamp": frame.timestamp_millis, "Face": face_detail(face, width, height, attributes)}
            for face in services.faces.analyze(frame.rgb, needs, MAX_FACES_PER_FRAME)
        ]

    metadata, faces = results_per_frame(services, job, faces_of)
    return {"VideoMetadata": metadata, "Faces": faces}

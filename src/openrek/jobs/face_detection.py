"""StartFaceDetection's work: faces in frames sampled from the video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.jobs.rates import job_frames
from openrek.jobs.store import Job
from openrek.operations.face_detail import face_detail, needs_for, requested_attributes
from openrek.video.decode import probe

if TYPE_CHECKING:
    from openrek.services import Services

MAX_FACES_PER_FRAME = 100


def detect_faces_in_video(services: Services, job: Job) -> dict[str, Any]:
    request = job.request
    attributes = requested_attributes([request.get("FaceAttributes", "DEFAULT")])
    needs = needs_for(attributes)
    faces: list[dict[str, Any]] = []
    with services.video_jobs.locator.local_path(request["Video"]) as path:
        metadata = probe(path)
        for frame in job_frames(services, job, path):
            height, width = frame.rgb.shape[:2]
            for face in services.faces.analyze(frame.rgb, needs, MAX_FACES_PER_FRAME):
                faces.append(
                    {
                        "Timestamp": frame.timestamp_millis,
                        "Face": face_detail(face, width, height, attributes),
                    }
                )
    return {"VideoMetadata": metadata.as_aws(), "Faces": faces}

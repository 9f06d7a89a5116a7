"""StartPersonTracking's work: people detected in each sampled frame, followed from
frame to frame by a multi-object tracker, each with an Index that stays while the
person is visible, and the person's face when the face detector finds it on them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from openrek.jobs.person_tracks import PersonTracks, faces_of_people
from openrek.jobs.rates import frames_per_second, results_per_frame
from openrek.jobs.store import Job
from openrek.operations.face_detail import face_detail, needs_for, ratio_box, requested_attributes
from openrek.video.decode import SampledFrame

if TYPE_CHECKING:
    from openrek.services import Services

MAX_FACES_PER_FRAME = 100


def track_people_in_video(services: Services, job: Job) -> dict[str, Any]:
    detector = services.person_detector
    tracks = PersonTracks(frames_per_second(services, job.api))
    attributes = requested_attributes(None)
    needs = needs_for(attributes)

    def people_of(frame: SampledFrame) -> list[dict[str, Any]]:
        height, width = frame.rgb.shape[:2]
        found = detector.detect(frame.rgb)
        people = tracks.update(found.boxes, found.scores)
        if not people:
            return []
        faces = services.faces.analyze(frame.rgb, needs, MAX_FACES_PER_FRAME)
        face_of = faces_of_people(
            np.stack([person.box for person in people]),
            np.array([face.box for face in faces], np.float32).reshape(-1, 4),
        )
        results = []
        for position, person in enumerate(people):
            detail: dict[str, Any] = {
                "Index": person.index,
                "BoundingBox": ratio_box(person.box, width, height),
            }
            if position in face_of:
                detail["Face"] = face_detail(faces[face_of[position]], width, height, attributes)
            results.append({"Timestamp": frame.timestamp_millis, "Person": detail})
        return results

    metadata, persons = results_per_frame(services, job, people_of)
    return {"VideoMetadata": metadata, "Persons": persons}

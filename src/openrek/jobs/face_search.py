"""StartFaceSearch's work: every face of each sampled frame searched in a collection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.jobs.face_identities import SearchedTracks, face_thumbnail
from openrek.jobs.face_tracks import FaceTracks
from openrek.jobs.rates import results_per_frame
from openrek.jobs.runner import JobFailed
from openrek.jobs.store import Job
from openrek.operations.collection_faces import matches_json
from openrek.operations.face_detail import face_detail, needs_for, ratio_box, requested_attributes
from openrek.storage.base import CollectionMissing, Match
from openrek.video.decode import SampledFrame

if TYPE_CHECKING:
    from openrek.services import Services

DEFAULT_MATCH_THRESHOLD = 80.0
MAX_MATCHES_PER_FACE = 10
MAX_FACES_PER_FRAME = 100


def search_faces_in_video(services: Services, job: Job) -> dict[str, Any]:
    try:
        return _search(services, job)
    except CollectionMissing:
        raise JobFailed(
            f"The collection {job.request['CollectionId']} was deleted while the job ran"
        ) from None


def _search(services: Services, job: Job) -> dict[str, Any]:
    request = job.request
    collection = services.store.get_collection(request["CollectionId"])
    version = collection.face_model_version
    embedder = services.embedder_for(version)
    min_cosine = services.min_cosine(request.get("FaceMatchThreshold", DEFAULT_MATCH_THRESHOLD), version)
    attributes = requested_attributes(None)
    # Points refined for alignment only for the faces that are embedded (see below).
    needs = needs_for(attributes)
    tracks = FaceTracks()
    searched: SearchedTracks[list[Match]] = SearchedTracks()

    def matches_of(frame: SampledFrame) -> list[dict[str, Any]]:
        height, width = frame.rgb.shape[:2]
        faces = services.faces.analyze(frame.rgb, needs, MAX_FACES_PER_FRAME)
        indices = tracks.assign([face.box for face in faces], frame.timestamp_millis)
        persons = []
        for face, index in zip(faces, indices, strict=True):
            thumbnail = face_thumbnail(frame.rgb, face.box)
            matches = searched.reusable(index, thumbnail, frame.timestamp_millis)
            if matches is None:
                matches = services.store.search(
                    collection.collection_id,
                    embedder.embed(frame.rgb, services.faces.aligned_points(frame.rgb, face)),
                    MAX_MATCHES_PER_FACE,
                    min_cosine,
                )
                searched.remember(index, thumbnail, frame.timestamp_millis, matches)
            if not matches:
                continue  # Persons lists the faces that match, as on AWS
            persons.append(
                {
                    "Timestamp": frame.timestamp_millis,
                    "Person": {
                        "Index": index,
                        "BoundingBox": ratio_box(face.box, width, height),
                        "Face": face_detail(face, width, height, attributes),
                    },
                    "FaceMatches": matches_json(services, collection, matches),
                }
            )
        return persons

    metadata, persons = results_per_frame(services, job, matches_of)
    return {"VideoMetadata": metadata, "Persons": persons}

"""StartCelebrityRecognition's work: every face of each sampled frame matched against the gallery.

The gallery is read once, when the job starts: a celebrity added or removed while a
job runs does not change that job's answer halfway through the video. A face
followed from frame to frame (jobs/face_tracks.py) is matched once per look
(jobs/face_identities.py), as StartFaceSearch searches it. Faces that are no
celebrity are not listed, as on AWS ("No information is returned for faces not
recognized as celebrities").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openrek.celebrities.matching import MATCH_THRESHOLD, Recognition, recognise
from openrek.jobs.face_identities import SearchedTracks, face_thumbnail
from openrek.jobs.face_tracks import FaceTracks
from openrek.jobs.rates import results_per_frame
from openrek.jobs.store import Job
from openrek.operations.face_detail import face_detail, ratio_box
from openrek.video.decode import SampledFrame

if TYPE_CHECKING:
    from openrek.services import Services

MAX_FACES_PER_FRAME = 100
# GetCelebrityRecognition gives "only the default facial attributes".
DEFAULT_ATTRIBUTES: frozenset[str] = frozenset()


def recognise_celebrities_in_video(services: Services, job: Job) -> dict[str, Any]:
    version = services.default_face_model_version
    gallery = services.celebrities.face_vectors(version)
    embedder = services.embedder_for(version) if len(gallery) else None
    min_cosine = services.min_cosine(MATCH_THRESHOLD, version)
    tracks = FaceTracks()
    searched: SearchedTracks[Recognition | None] = SearchedTracks()

    def celebrities_of(frame: SampledFrame) -> list[dict[str, Any]]:
        if embedder is None:
            return []  # an empty gallery names no one: the frames are decoded for VideoMetadata only
        height, width = frame.rgb.shape[:2]
        faces = services.faces.analyze(frame.rgb, frozenset(), MAX_FACES_PER_FRAME)
        indices = tracks.assign([face.box for face in faces], frame.timestamp_millis)
        thumbnails = [face_thumbnail(frame.rgb, face.box) for face in faces]
        found: list[Recognition | None] = []
        fresh: list[int] = []
        for n, (index, thumbnail) in enumerate(zip(indices, thumbnails, strict=True)):
            reused = searched.reusable(index, thumbnail, frame.timestamp_millis)
            found.append(reused)
            if reused is None:
                fresh.append(n)
        if fresh:
            vectors = [
                embedder.embed(frame.rgb, services.faces.aligned_points(frame.rgb, faces[n])) for n in fresh
            ]
            for n, recognition in zip(fresh, recognise(vectors, gallery, min_cosine), strict=True):
                found[n] = recognition
                searched.remember(indices[n], thumbnails[n], frame.timestamp_millis, recognition)
        return [
            {
                "Timestamp": frame.timestamp_millis,
                "Celebrity": {
                    **recognition.celebrity.info(),
                    "Id": recognition.celebrity.celebrity_id,
                    "Confidence": float(services.similarity(recognition.cosine, version)),
                    "BoundingBox": ratio_box(face.box, width, height),
                    "Face": face_detail(face, width, height, DEFAULT_ATTRIBUTES),
                },
            }
            for face, recognition in _once_per_celebrity(faces, found)
        ]

    metadata, celebrities = results_per_frame(services, job, celebrities_of)
    return {"VideoMetadata": metadata, "Celebrities": celebrities}


def _once_per_celebrity(faces: list[Any], found: list[Recognition | None]) -> list[tuple[Any, Recognition]]:
    """Each recognised face, a celebrity listed once per frame (its best-matching face).

    Fresh matches of one frame never share a celebrity (matching.recognise), but a
    reused result of one track and a fresh match of another could."""
    best: dict[str, tuple[Any, Recognition]] = {}
    for face, recognition in zip(faces, found, strict=True):
        if recognition is None:
            continue
        known = best.get(recognition.celebrity.celebrity_id)
        if known is None or recognition.cosine > known[1].cosine:
            best[recognition.celebrity.celebrity_id] = (face, recognition)
    return list(best.values())

"""A FaceSearch stream processor's work on one analysed frame: AWS's Kinesis frame record.

Every face of the frame is searched in the collection (a threshold under 80 counts
as 80, as on AWS). Faces are followed between analysed frames and a tracked face is
searched once per look (jobs/face_identities.py), as stored-video face search does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from openrek.jobs.face_identities import SearchedTracks, face_thumbnail
from openrek.jobs.face_tracks import FaceTracks
from openrek.operations.collection_faces import matches_json
from openrek.operations.face_detail import face_detail, needs_for, requested_attributes
from openrek.storage.base import Match

if TYPE_CHECKING:
    from openrek.services import Services

MIN_MATCH_THRESHOLD = 80.0  # AWS raises a lower FaceMatchThreshold to this
MAX_MATCHES_PER_FACE = 10
MAX_FACES_PER_FRAME = 100
# What DetectedFace carries in AWS's record.
DETECTED_FACE_KEYS = ("BoundingBox", "Confidence", "Landmarks", "Pose", "Quality")


@dataclass
class FaceSearchSession:
    services: Services
    collection_id: str
    threshold: float
    tracks: FaceTracks = field(default_factory=FaceTracks)
    searched: SearchedTracks[list[Match]] = field(default_factory=SearchedTracks)

    @classmethod
    def of(cls, services: Services, settings: dict[str, Any]) -> FaceSearchSession:
        threshold = max(MIN_MATCH_THRESHOLD, float(settings.get("FaceMatchThreshold", MIN_MATCH_THRESHOLD)))
        return cls(services, settings["CollectionId"], threshold)

    def responses(self, rgb: np.ndarray, offset_millis: int) -> list[dict[str, Any]]:
        """FaceSearchResponse: each face of the frame and the collection's faces it matches."""
        services = self.services
        collection = services.store.get_collection(self.collection_id)
        version = collection.face_model_version
        embedder = services.embedder_for(version)
        min_cosine = services.min_cosine(self.threshold, version)
        attributes = requested_attributes(None)
        height, width = rgb.shape[:2]
        faces = services.faces.analyze(rgb, needs_for(attributes), MAX_FACES_PER_FRAME)
        indices = self.tracks.assign([face.box for face in faces], offset_millis)
        responses = []
        for face, index in zip(faces, indices, strict=True):
            thumbnail = face_thumbnail(rgb, face.box)
            matches = self.searched.reusable(index, thumbnail, offset_millis)
            if matches is None:
                vector = embedder.embed(rgb, services.faces.aligned_points(rgb, face))
                matches = services.store.search(
                    collection.collection_id, vector, MAX_MATCHES_PER_FACE, min_cosine
                )
                self.searched.remember(index, thumbnail, offset_millis, matches)
            detail = face_detail(face, width, height, attributes)
            responses.append(
                {
                    "DetectedFace": {key: detail[key] for key in DETECTED_FACE_KEYS if key in detail},
                    "MatchedFaces": matches_json(services, collection, matches),
                }
            )
        return responses

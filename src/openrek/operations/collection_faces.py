"""Faces in collections: IndexFaces, ListFaces, DeleteFaces, SearchFaces, SearchFacesByImage."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np

from openrek.inference.faces.analyzer import FaceAnalysis, Need
from openrek.operations.collections import bad_token, collection_or_404, page_size
from openrek.operations.face_detail import face_detail, needs_for, ratio_box, requested_attributes
from openrek.operations.quality_filter import quality_rank, rejection_reasons
from openrek.protocol.errors import InvalidParameterException
from openrek.services import Services
from openrek.storage.base import Collection, FaceRecord, InvalidPageToken, Match

MAX_INDEXED_FACES = 100
DEFAULT_MATCH_THRESHOLD = 80.0
DEFAULT_MAX_MATCHES = 4096


def face_json(record: FaceRecord, version: str) -> dict[str, Any]:
    width, height, left, top = record.bounding_box
    face: dict[str, Any] = {
        "FaceId": record.face_id,
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "ImageId": record.image_id,
        "Confidence": record.confidence,
        "IndexFacesModelVersion": version,
    }
    if record.external_image_id is not None:
        face["ExternalImageId"] = record.external_image_id
    if record.user_id is not None:
        face["UserId"] = record.user_id
    return face


def no_face_error() -> InvalidParameterException:
    return InvalidParameterException("There are no faces in the image. Should be at least 1.")


def largest_face(services: Services, image_rgb: np.ndarray, quality_filter: str) -> FaceAnalysis:
    """The largest face, or InvalidParameterException when there is none or it is filtered."""
    faces = services.faces.analyze(image_rgb, frozenset({Need.ALIGNMENT}), max_faces=1, turned=True)
    if not faces:
        raise no_face_error()
    reasons = rejection_reasons(faces[0], quality_filter)
    if reasons:
        raise InvalidParameterException(
            f"The largest face does not pass QualityFilter {quality_filter}: {', '.join(reasons)}"
        )
    return faces[0]


def matches_json(
    services: Services, collection: Collection, matches: list[Match], exclude: str | None = None
) -> list[dict[str, Any]]:
    records = services.store.get_faces(collection.collection_id, [m.face_id for m in matches])
    similarity = services.similarity
    return [
        {
            "Similarity": float(similarity(m.cosine, collection.face_model_version)),
            "Face": face_json(records[m.face_id], collection.face_model_version),
        }
        for m in matches
        if m.face_id != exclude and m.face_id in records
    ]


def index_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    embedder = services.embedder_for(collection.face_model_version)
    image = services.load_image(params["Image"])
    attributes = requested_attributes(params.get("DetectionAttributes"))
    quality_filter = params.get("QualityFilter", "AUTO")
    max_faces = min(params.get("MaxFaces", MAX_INDEXED_FACES), MAX_INDEXED_FACES)
    needs = needs_for(attributes) | {Need.ALIGNMENT}
    faces = services.faces.analyze(image.rgb, needs, MAX_INDEXED_FACES, turned=True)

    unindexed: list[tuple[FaceAnalysis, list[str]]] = []
    passing: list[FaceAnalysis] = []
    for face in faces:
        reasons = rejection_reasons(face, quality_filter)
        (unindexed.append((face, reasons)) if reasons else passing.append(face))
    # Past MaxFaces, AWS drops the lowest-quality faces first; equal quality, the smallest.
    # The kept faces are answered largest first, as they were detected.
    ranked = sorted(passing, key=lambda f: (-quality_rank(f), -f.area))
    kept = {id(f) for f in ranked[:max_faces]}
    unindexed += [(face, ["EXCEEDS_MAX_FACES"]) for face in passing if id(face) not in kept]
    passing = [face for face in passing if id(face) in kept]

    image_id = str(uuid.uuid4())
    now = time.time()
    records = []
    for face in passing:
        box = ratio_box(face.box, image.width, image.height)
        records.append(
            FaceRecord(
                face_id=str(uuid.uuid4()),
                image_id=image_id,
                external_image_id=params.get("ExternalImageId"),
                bounding_box=(box["Width"], box["Height"], box["Left"], box["Top"]),
                confidence=float(face.score * 100),
                vector=embedder.embed(image.rgb, face.points),
                indexed_at=now,
            )
        )
    services.store.add_faces(collection.collection_id, records)
    version = collection.face_model_version
    return {
        "FaceRecords": [
            {
                "Face": face_json(record, version),
                "FaceDetail": face_detail(face, image.width, image.height, attributes),
            }
            for record, face in zip(records, passing, strict=True)
        ],
        "FaceModelVersion": version,
        "UnindexedFaces": [
            {"Reasons": reasons, "FaceDetail": face_detail(face, image.width, image.height, attributes)}
            for face, reasons in unindexed
        ],
    }


def list_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    try:
        page = services.store.list_faces(
            collection.collection_id,
            params.get("NextToken"),
            page_size(params),
            face_ids=params.get("FaceIds"),
            user_id=params.get("UserId"),
        )
    except InvalidPageToken:
        raise bad_token() from None
    result: dict[str, Any] = {
        "Faces": [face_json(r, collection.face_model_version) for r in page.items],
        "FaceModelVersion": collection.face_model_version,
    }
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


def delete_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    wanted = list(dict.fromkeys(params["FaceIds"]))
    found = services.store.get_faces(collection.collection_id, wanted)
    failures: list[dict[str, Any]] = []
    deletable = []
    for face_id in wanted:
        record = found.get(face_id)
        if record is None:
            failures.append({"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]})
        elif record.user_id is not None:
            failures.append(
                {"FaceId": face_id, "UserId": record.user_id, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}
            )
        else:
            deletable.append(face_id)
    deleted = services.store.delete_faces(collection.collection_id, deletable)
    # A face associated to a user by another request meanwhile is kept by the store.
    for face_id, record in services.store.get_faces(
        collection.collection_id, [f for f in deletable if f not in set(deleted)]
    ).items():
        if record.user_id is not None:
            failures.append(
                {"FaceId": face_id, "UserId": record.user_id, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}
            )
    result: dict[str, Any] = {"DeletedFaces": deleted}
    if failures:
        result["UnsuccessfulFaceDeletions"] = failures
    return result


def search_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    face_id = params["FaceId"]
    searched = services.store.get_faces(collection.collection_id, [face_id]).get(face_id)
    if searched is None:
        raise InvalidParameterException(f"Face {face_id} is not in collection {collection.collection_id}")
    limit = params.get("MaxFaces", DEFAULT_MAX_MATCHES)
    threshold = params.get("FaceMatchThreshold", DEFAULT_MATCH_THRESHOLD)
    matches = services.store.search(
        collection.collection_id,
        searched.vector,
        limit + 1,  # the searched face finds itself first
        services.min_cosine(threshold, collection.face_model_version),
    )
    return {
        "SearchedFaceId": face_id,
        "FaceMatches": matches_json(services, collection, matches, exclude=face_id)[:limit],
        "FaceModelVersion": collection.face_model_version,
    }


def search_faces_by_image(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    embedder = services.embedder_for(collection.face_model_version)
    image = services.load_image(params["Image"])
    face = largest_face(services, image.rgb, params.get("QualityFilter", "NONE"))
    threshold = params.get("FaceMatchThreshold", DEFAULT_MATCH_THRESHOLD)
    matches = services.store.search(
        collection.collection_id,
        embedder.embed(image.rgb, face.points),
        params.get("MaxFaces", DEFAULT_MAX_MATCHES),
        services.min_cosine(threshold, collection.face_model_version),
    )
    return {
        "SearchedFaceBoundingBox": ratio_box(face.box, image.width, image.height),
        "SearchedFaceConfidence": float(face.score * 100),
        "FaceMatches": matches_json(services, collection, matches),
        "FaceModelVersion": collection.face_model_version,
    }


HANDLERS = {
    "IndexFaces": index_faces,
    "ListFaces": list_faces,
    "DeleteFaces": delete_faces,
    "SearchFaces": search_faces,
    "SearchFacesByImage": search_faces_by_image,
}

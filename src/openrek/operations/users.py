"""Users: faces of one person grouped under a UserId, and searched as one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from openrek.operations.collections import bad_token, collection_or_404, page_size
from openrek.operations.face_detail import face_detail
from openrek.operations.quality_filter import rejection_reasons
from openrek.protocol.errors import (
    ConflictException,
    IdempotentParameterMismatchException,
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from openrek.services import Services
from openrek.storage.base import (
    Collection,
    InvalidPageToken,
    UserExists,
    UserFaceLimit,
    UserMissing,
    UserRecord,
)

MAX_FACES_PER_USER = 100
DEFAULT_ASSOCIATE_THRESHOLD = 75.0
DEFAULT_SEARCH_THRESHOLD = 80.0
DEFAULT_MAX_USERS = 500
# How many nearest faces a user search looks at before grouping them by user.
FACES_SCANNED_FOR_USERS = 4096


def _idempotent(
    services: Services, operation: str, params: dict[str, Any], run: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Same ClientRequestToken and same parameters: the first answer again, no second effect."""
    token = params.get("ClientRequestToken")
    if token is None:
        return run()
    scope = f"{operation}:{params['CollectionId']}"
    fingerprint = json.dumps({k: v for k, v in params.items() if k != "ClientRequestToken"}, sort_keys=True)
    with services.store.request_lock(scope, token):
        earlier = services.store.recall_request(scope, token)
        if earlier is not None:
            if earlier[0] != fingerprint:
                raise IdempotentParameterMismatchException(
                    "ClientRequestToken was used before with different parameters"
                )
            return dict(json.loads(earlier[1]))
        result = run()
        services.store.remember_request(scope, token, fingerprint, json.dumps(result))
        return result


def _user_or_404(services: Services, collection: Collection, user_id: str) -> UserRecord:
    try:
        return services.store.get_user(collection.collection_id, user_id)
    except UserMissing:
        raise ResourceNotFoundException(
            f"The user id: {user_id} does not exist in collection {collection.collection_id}"
        ) from None


def _status(services: Services, collection: Collection, user_id: str) -> str:
    return str(services.store.get_user(collection.collection_id, user_id).status)


def create_user(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])

    def run() -> dict[str, Any]:
        try:
            services.store.create_user(collection.collection_id, params["UserId"])
        except UserExists:
            raise ConflictException(
                f"A user with id {params['UserId']} already exists in the collection"
            ) from None
        return {}

    return _idempotent(services, "CreateUser", params, run)


def delete_user(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])

    def run() -> dict[str, Any]:
        try:
            services.store.delete_user(collection.collection_id, params["UserId"])
        except UserMissing:
            raise ResourceNotFoundException(f"The user id: {params['UserId']} does not exist") from None
        return {}

    return _idempotent(services, "DeleteUser", params, run)


def list_users(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    try:
        page = services.store.list_users(
            collection.collection_id, params.get("NextToken"), page_size(params, DEFAULT_MAX_USERS)
        )
    except InvalidPageToken:
        raise bad_token() from None
    result: dict[str, Any] = {"Users": [{"UserId": u.user_id, "UserStatus": u.status} for u in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


def associate_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    user_id = params["UserId"]
    _user_or_404(services, collection, user_id)
    threshold = params.get("UserMatchThreshold", DEFAULT_ASSOCIATE_THRESHOLD)

    def run() -> dict[str, Any]:
        store = services.store
        wanted = list(dict.fromkeys(params["FaceIds"]))
        records = store.get_faces(collection.collection_id, wanted)
        current = store.list_faces(
            collection.collection_id, None, MAX_FACES_PER_USER + 1, user_id=user_id
        ).items
        current_ids = {r.face_id for r in current}
        user_vectors = np.stack([r.vector for r in current]) if current else None
        failures: list[dict[str, Any]] = []
        accepted: list[str] = []
        for face_id in wanted:
            record = records.get(face_id)
            if record is None:
                failures.append({"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]})
                continue
            if record.user_id is not None and record.user_id != user_id:
                failures.append(
                    {
                        "FaceId": face_id,
                        "UserId": record.user_id,
                        "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"],
                    }
                )
                continue
            if user_vectors is not None and face_id not in current_ids:
                best = float(np.max(user_vectors @ record.vector))
                similarity = float(services.similarity(best, collection.face_model_version))
                if similarity < threshold:
                    failures.append(
                        {
                            "FaceId": face_id,
                            "UserId": user_id,
                            "Confidence": similarity,
                            "Reasons": ["LOW_MATCH_CONFIDENCE"],
                        }
                    )
                    continue
            accepted.append(face_id)
        # Faces the user already has are ignored and not returned, as on AWS.
        new = [f for f in accepted if f not in current_ids]
        try:
            given = store.associate_faces(collection.collection_id, user_id, new, MAX_FACES_PER_USER)
        except UserFaceLimit:
            raise ServiceQuotaExceededException(
                f"A user can have at most {MAX_FACES_PER_USER} associated faces"
            ) from None
        # A face another call gave to someone else meanwhile was not given here.
        failures += [
            {"FaceId": f, "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]} for f in new if f not in given
        ]
        return {
            "AssociatedFaces": [{"FaceId": f} for f in given],
            "UnsuccessfulFaceAssociations": failures,
            "UserStatus": _status(services, collection, user_id),
        }

    return _idempotent(services, "AssociateFaces", params, run)


def disassociate_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    user_id = params["UserId"]
    _user_or_404(services, collection, user_id)

    def run() -> dict[str, Any]:
        wanted = list(dict.fromkeys(params["FaceIds"]))
        records = services.store.get_faces(collection.collection_id, wanted)
        failures: list[dict[str, Any]] = []
        removed: list[str] = []
        for face_id in wanted:
            record = records.get(face_id)
            if record is None:
                failures.append({"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]})
            elif record.user_id is not None and record.user_id != user_id:
                failures.append(
                    {
                        "FaceId": face_id,
                        "UserId": record.user_id,
                        "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"],
                    }
                )
            elif record.user_id == user_id:
                removed.append(face_id)
            # A face that belongs to nobody is ignored and not returned, as on AWS.
        taken = services.store.disassociate_faces(collection.collection_id, user_id, removed)
        return {
            "DisassociatedFaces": [{"FaceId": f} for f in taken],
            "UnsuccessfulFaceDisassociations": failures,
            "UserStatus": _status(services, collection, user_id),
        }

    return _idempotent(services, "DisassociateFaces", params, run)


def _user_matches(
    services: Services,
    collection: Collection,
    vectors: list[np.ndarray],
    threshold: float,
    max_users: int,
    exclude_user: str | None = None,
) -> list[dict[str, Any]]:
    """Users whose faces match any query vector, each scored by its best face."""
    floor = services.min_cosine(threshold, collection.face_model_version)
    best: dict[str, float] = {}
    for vector in vectors:
        matches = services.store.search(collection.collection_id, vector, FACES_SCANNED_FOR_USERS, floor)
        records = services.store.get_faces(collection.collection_id, [m.face_id for m in matches])
        for match in matches:
            record = records.get(match.face_id)
            if record is None or record.user_id is None or record.user_id == exclude_user:
                continue
            best[record.user_id] = max(best.get(record.user_id, -1.0), match.cosine)
    ranked = sorted(best.items(), key=lambda item: -item[1])[:max_users]
    return [
        {
            "Similarity": float(services.similarity(cosine, collection.face_model_version)),
            "User": {"UserId": user, "UserStatus": "ACTIVE"},  # it has faces, so ACTIVE
        }
        for user, cosine in ranked
    ]


def search_users(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    user_id, face_id = params.get("UserId"), params.get("FaceId")
    if (user_id is None) == (face_id is None):
        raise InvalidParameterException("Specify exactly one of UserId or FaceId")
    threshold = params.get("UserMatchThreshold", DEFAULT_SEARCH_THRESHOLD)
    max_users = params.get("MaxUsers", DEFAULT_MAX_USERS)
    result: dict[str, Any] = {"FaceModelVersion": collection.face_model_version}
    if user_id is not None:
        _user_or_404(services, collection, user_id)
        faces = services.store.list_faces(
            collection.collection_id, None, MAX_FACES_PER_USER, user_id=user_id
        ).items
        vectors = [f.vector for f in faces]
        result["SearchedUser"] = {"UserId": user_id}
        exclude = user_id
    else:
        assert face_id is not None  # exactly one of the two, checked above
        record = services.store.get_faces(collection.collection_id, [face_id]).get(face_id)
        if record is None:
            raise InvalidParameterException(f"Face {face_id} is not in collection {collection.collection_id}")
        vectors = [record.vector]
        result["SearchedFace"] = {"FaceId": face_id}
        exclude = record.user_id
    result["UserMatches"] = _user_matches(services, collection, vectors, threshold, max_users, exclude)
    return result


def search_users_by_image(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection = collection_or_404(services.store, params["CollectionId"])
    embedder = services.embedder_for(collection.face_model_version)
    image = services.load_image(params["Image"])
    faces = services.faces.analyze(image.rgb, frozenset(), max_faces=100, turned=True)
    result: dict[str, Any] = {"FaceModelVersion": collection.face_model_version, "UserMatches": []}
    if not faces:
        return result
    no_attributes: frozenset[str] = frozenset()
    largest, others = faces[0], faces[1:]
    unsearched = [
        {
            "FaceDetails": face_detail(f, image.width, image.height, no_attributes),
            "Reasons": ["FACE_NOT_LARGEST"],
        }
        for f in others
    ]
    reasons = rejection_reasons(largest, params.get("QualityFilter", "NONE"))
    detail = face_detail(largest, image.width, image.height, no_attributes)
    if reasons:
        unsearched.insert(0, {"FaceDetails": detail, "Reasons": reasons})
    else:
        result["SearchedFace"] = {"FaceDetail": detail}
        result["UserMatches"] = _user_matches(
            services,
            collection,
            [embedder.embed(image.rgb, services.faces.aligned_points(image.rgb, largest))],
            params.get("UserMatchThreshold", DEFAULT_SEARCH_THRESHOLD),
            params.get("MaxUsers", DEFAULT_MAX_USERS),
        )
    if unsearched:
        result["UnsearchedFaces"] = unsearched
    return result


HANDLERS = {
    "CreateUser": create_user,
    "DeleteUser": delete_user,
    "ListUsers": list_users,
    "AssociateFaces": associate_faces,
    "DisassociateFaces": disassociate_faces,
    "SearchUsers": search_users,
    "SearchUsersByImage": search_users_by_image,
}

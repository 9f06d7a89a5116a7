"""Collections and their tags: Create/Describe/List/DeleteCollection, Tag/Untag/ListTags."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from openrek.protocol.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from openrek.services import Services
from openrek.storage.base import (
    Collection,
    CollectionExists,
    CollectionMissing,
    FaceStore,
    InvalidPageToken,
)

DEFAULT_PAGE = 1000
MAX_TAGS = 50


def collection_or_404(store: FaceStore, collection_id: str) -> Collection:
    try:
        return store.get_collection(collection_id)
    except CollectionMissing:
        raise ResourceNotFoundException(f"The collection id: {collection_id} does not exist") from None


def page_size(params: dict[str, Any], default: int = DEFAULT_PAGE) -> int:
    # PageSize admits 0; AWS treats a missing or zero size as its default.
    return params.get("MaxResults") or default


def bad_token() -> InvalidPaginationTokenException:
    return InvalidPaginationTokenException("Invalid pagination token provided")


def collection_arn(services: Services, collection_id: str) -> str:
    settings = services.settings
    return f"arn:aws:rekognition:{settings.region}:{settings.account_id}:collection/{collection_id}"


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterException(f"A resource can have at most {MAX_TAGS} tags")


def create_collection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    collection_id = params["CollectionId"]
    tags = params.get("Tags") or {}
    check_tags(tags)
    version = services.default_face_model_version
    collection = Collection(
        collection_id=collection_id,
        arn=collection_arn(services, collection_id),
        face_model_version=version,
        created_at=time.time(),
        tags=dict(tags),
    )
    try:
        services.store.create_collection(collection)
    except CollectionExists:
        raise ResourceAlreadyExistsException(f"The collection id: {collection_id} already exists") from None
    return {"StatusCode": 200, "CollectionArn": collection.arn, "FaceModelVersion": version}


def describe_collection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    store: FaceStore = services.store
    collection = collection_or_404(store, params["CollectionId"])
    return {
        "FaceCount": store.count_faces(collection.collection_id),
        "UserCount": store.count_users(collection.collection_id),
        "FaceModelVersion": collection.face_model_version,
        "CollectionARN": collection.arn,
        "CreationTimestamp": dt.datetime.fromtimestamp(collection.created_at, dt.UTC),
    }


def list_collections(params: dict[str, Any], services: Services) -> dict[str, Any]:
    try:
        page = services.store.list_collections(params.get("NextToken"), page_size(params))
    except InvalidPageToken:
        raise bad_token() from None
    result: dict[str, Any] = {
        "CollectionIds": [c.collection_id for c in page.items],
        "FaceModelVersions": [c.face_model_version for c in page.items],
    }
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


def delete_collection(params: dict[str, Any], services: Services) -> dict[str, Any]:
    try:
        services.store.delete_collection(params["CollectionId"])
    except CollectionMissing:
        raise ResourceNotFoundException(
            f"The collection id: {params['CollectionId']} does not exist"
        ) from None
    return {"StatusCode": 200}


def collection_by_arn(services: Services, arn: str) -> Collection:
    try:
        return services.store.collection_by_arn(arn)
    except CollectionMissing:
        raise ResourceNotFoundException(f"The resource {arn} does not exist") from None


def tag_collection(collection: Collection, tags: dict[str, str], services: Services) -> None:
    check_tags({**collection.tags, **tags})
    services.store.tag_collection(collection.collection_id, tags)


def untag_collection(collection: Collection, keys: list[str], services: Services) -> None:
    services.store.untag_collection(collection.collection_id, keys)


HANDLERS = {
    "CreateCollection": create_collection,
    "DescribeCollection": describe_collection,
    "ListCollections": list_collections,
    "DeleteCollection": delete_collection,
}

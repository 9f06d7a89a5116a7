"""TagResource, UntagResource and ListTagsForResource: a collection's, a stream
processor's or a Custom Labels project's, dataset's or model version's tags, told
apart by the resource type in the ARN."""

from __future__ import annotations

from typing import Any

from openrek.operations import custom_labels_projects
from openrek.operations.collections import collection_by_arn, tag_collection, untag_collection
from openrek.operations.stream_processors import (
    processor_by_arn,
    tag_stream_processor,
    untag_stream_processor,
)
from openrek.protocol.dispatch import Handler
from openrek.services import Services


def _is_stream_processor(arn: str) -> bool:
    return arn.split(":", 5)[-1].startswith("streamprocessor/")


def _is_custom_labels(arn: str) -> bool:
    """A Custom Labels project, one of its datasets or one of its model versions."""
    return arn.split(":", 5)[-1].startswith("project/")


def tag_resource(params: dict[str, Any], services: Services) -> dict[str, Any]:
    arn = params["ResourceArn"]
    if _is_custom_labels(arn):
        custom_labels_projects.tag_resource(services, arn, params["Tags"])
    elif _is_stream_processor(arn):
        tag_stream_processor(processor_by_arn(services, arn), params["Tags"], services)
    else:
        tag_collection(collection_by_arn(services, arn), params["Tags"], services)
    return {}


def untag_resource(params: dict[str, Any], services: Services) -> dict[str, Any]:
    arn = params["ResourceArn"]
    if _is_custom_labels(arn):
        custom_labels_projects.untag_resource(services, arn, params["TagKeys"])
    elif _is_stream_processor(arn):
        untag_stream_processor(processor_by_arn(services, arn), params["TagKeys"], services)
    else:
        untag_collection(collection_by_arn(services, arn), params["TagKeys"], services)
    return {}


def list_tags_for_resource(params: dict[str, Any], services: Services) -> dict[str, Any]:
    arn = params["ResourceArn"]
    if _is_custom_labels(arn):
        return {"Tags": dict(custom_labels_projects.tags_of(services, arn))}
    if _is_stream_processor(arn):
        return {"Tags": dict(processor_by_arn(services, arn).tags)}
    return {"Tags": dict(collection_by_arn(services, arn).tags)}


HANDLERS: dict[str, Handler[Services]] = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}

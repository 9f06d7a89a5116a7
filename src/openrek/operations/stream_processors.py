"""Stream processor operations: Create, Describe, List, Delete, Update, Start, Stop, and
their tags (operations/tags.py routes a stream processor's ARN here)."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from openrek.operations.collections import check_tags, collection_or_404
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from openrek.services import Services
from openrek.streams.connected_home import SettingsInvalid, min_confidence_of, requested_labels
from openrek.streams.regions import RegionsInvalid, parse_regions
from openrek.streams.runner import video_stream_name
from openrek.streams.sinks import kinesis_stream_name
from openrek.streams.store import (
    RUNNING,
    STARTING,
    STOPPING,
    ProcessorExists,
    ProcessorMissing,
    StreamProcessor,
    TooManyRunning,
    WrongStatus,
)

DEFAULT_MAX_RESULTS = 1000
MIN_DURATION_S, MAX_DURATION_S = 1, 120  # StopSelector.MaxDurationInSeconds (AWS: at most 2 minutes)
DELETABLE = ("ConnectedHomeMinConfidence", "RegionsOfInterest")  # ParametersToDelete
# The request members a processor is defined by, kept as given and echoed by Describe.
DEFINITION = (
    "Input",
    "Output",
    "Settings",
    "RoleArn",
    "NotificationChannel",
    "KmsKeyId",
    "RegionsOfInterest",
    "DataSharingPreference",
)


def _arn(services: Services, name: str) -> str:
    settings = services.settings
    return f"arn:aws:rekognition:{settings.region}:{settings.account_id}:streamprocessor/{name}"


def _missing(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"The stream processor {name} does not exist")


def _processor_or_404(services: Services, name: str) -> StreamProcessor:
    try:
        return services.stream_processors.store.get(name)
    except ProcessorMissing:
        raise _missing(name) from None


def processor_by_arn(services: Services, arn: str) -> StreamProcessor:
    try:
        return services.stream_processors.store.by_arn(arn)
    except ProcessorMissing:
        raise ResourceNotFoundException(f"The resource {arn} does not exist") from None


def _check_definition(definition: dict[str, Any], services: Services) -> None:
    settings = definition["Settings"]
    output = definition["Output"]
    if ("FaceSearch" in settings) == ("ConnectedHome" in settings):
        raise InvalidParameterException("Settings must have exactly one of FaceSearch and ConnectedHome")
    # Every member of Input is optional in the model: a missing one is an invalid value here.
    video_arn = (definition["Input"].get("KinesisVideoStream") or {}).get("Arn", "")
    if video_stream_name(video_arn) is None:
        raise InvalidParameterException("Input.KinesisVideoStream.Arn is not a Kinesis video stream ARN")
    if "ConnectedHome" in settings:
        _check_connected_home(definition, services)
        return
    face_search = settings["FaceSearch"]
    if "CollectionId" not in face_search:
        raise InvalidParameterException("Settings.FaceSearch.CollectionId is required")
    if "KinesisDataStream" not in output or "S3Destination" in output:
        raise InvalidParameterException(
            "A FaceSearch stream processor writes to Output.KinesisDataStream only"
        )
    if kinesis_stream_name(output["KinesisDataStream"].get("Arn", "")) is None:
        raise InvalidParameterException("Output.KinesisDataStream.Arn is not a Kinesis data stream ARN")
    if definition.get("RegionsOfInterest"):
        raise InvalidParameterException("RegionsOfInterest applies to ConnectedHome stream processors only")
    if services.settings.kinesis_endpoint_url is None:
        # Accepting the output and never writing to it would leave a consumer waiting.
        raise InvalidParameterException(
            "Output.KinesisDataStream needs a Kinesis endpoint: set OPENREK_KINESIS_ENDPOINT_URL on the server"
        )
    try:
        collection_or_404(services.store, face_search["CollectionId"])
    except ResourceNotFoundException as missing:
        # CreateStreamProcessor declares no ResourceNotFound: the collection is a bad parameter
        # here, and a missing resource only at Start (its collection deleted since).
        raise InvalidParameterException(missing.message) from None


def _check_connected_home(definition: dict[str, Any], services: Services) -> None:
    _check_connected_home_settings(definition)
    output = definition["Output"]
    if "S3Destination" not in output or "KinesisDataStream" in output:
        raise InvalidParameterException(
            "A ConnectedHome stream processor writes to Output.S3Destination only"
        )
    if not output["S3Destination"].get("Bucket"):
        raise InvalidParameterException("Output.S3Destination.Bucket is required")
    if not (definition.get("NotificationChannel") or {}).get("SNSTopicArn"):
        raise InvalidParameterException(
            "A ConnectedHome stream processor needs NotificationChannel.SNSTopicArn: "
            "its label events and session summary are published there"
        )
    if services.settings.sns_endpoint_url is None:
        # Accepting the channel and never publishing to it would leave a subscriber waiting.
        raise InvalidParameterException(
            "NotificationChannel needs an SNS endpoint: set OPENREK_SNS_ENDPOINT_URL on the server"
        )
    if definition.get("KmsKeyId") and services.settings.s3_endpoint_url is None:
        raise InvalidParameterException(
            "KmsKeyId needs an S3 endpoint to encrypt with: set OPENREK_S3_ENDPOINT_URL on the server"
        )


def _check_connected_home_settings(definition: dict[str, Any]) -> None:
    """Labels, MinConfidence and RegionsOfInterest, at Create and after an Update."""
    settings = definition["Settings"]["ConnectedHome"]
    try:
        requested_labels(settings.get("Labels") or [])
        min_confidence_of(settings)
        parse_regions(definition.get("RegionsOfInterest"))
    except (SettingsInvalid, RegionsInvalid) as invalid:
        raise InvalidParameterException(str(invalid)) from None


def create_stream_processor(params: dict[str, Any], services: Services) -> dict[str, Any]:
    definition = {key: params[key] for key in DEFINITION if key in params}
    _check_definition(definition, services)
    tags = params.get("Tags") or {}
    check_tags(tags)
    arn = _arn(services, params["Name"])
    try:
        services.stream_processors.store.create(params["Name"], arn, definition, dict(tags))
    except ProcessorExists:
        raise ResourceInUseException(f"The stream processor {params['Name']} already exists") from None
    return {"StreamProcessorArn": arn}


def describe_stream_processor(params: dict[str, Any], services: Services) -> dict[str, Any]:
    processor = _processor_or_404(services, params["Name"])
    response: dict[str, Any] = {
        "Name": processor.name,
        "StreamProcessorArn": processor.arn,
        "Status": processor.status,
        "CreationTimestamp": processor.created_at,
        "LastUpdateTimestamp": processor.updated_at,
        **processor.definition,
    }
    if processor.status_message is not None:
        response["StatusMessage"] = processor.status_message
    return response


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _after(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidPaginationTokenException("Invalid Token") from None


def list_stream_processors(params: dict[str, Any], services: Services) -> dict[str, Any]:
    size = min(params.get("MaxResults", DEFAULT_MAX_RESULTS), DEFAULT_MAX_RESULTS)
    page = services.stream_processors.store.page(_after(params.get("NextToken")), size + 1)
    response: dict[str, Any] = {
        "StreamProcessors": [{"Name": p.name, "Status": p.status} for p in page[:size]]
    }
    if len(page) > size:
        response["NextToken"] = _token(page[size - 1].name)
    return response


def delete_stream_processor(params: dict[str, Any], services: Services) -> dict[str, Any]:
    try:
        services.stream_processors.store.delete(params["Name"])
    except ProcessorMissing:
        raise _missing(params["Name"]) from None
    except WrongStatus as status:
        raise ResourceInUseException(
            f"The stream processor {params['Name']} is {status}: stop it before deleting it"
        ) from None
    return {}


def start_stream_processor(params: dict[str, Any], services: Services) -> dict[str, Any]:
    name = params["Name"]
    settings = _processor_or_404(services, name).definition["Settings"]
    connected_home = "ConnectedHome" in settings
    if not connected_home:
        collection_or_404(services.store, settings["FaceSearch"]["CollectionId"])
    if "StartSelector" in params:
        if not connected_home:
            # AWS: a StartSelector is for label detection processors, not face search.
            raise InvalidParameterException(
                "StartSelector is for ConnectedHome stream processors; FaceSearch sessions start at the live edge"
            )
        _check_start_selector(params["StartSelector"])
    duration = (params.get("StopSelector") or {}).get("MaxDurationInSeconds")
    if duration is not None and not (
        isinstance(duration, int) and MIN_DURATION_S <= duration <= MAX_DURATION_S
    ):
        raise InvalidParameterException(
            f"StopSelector.MaxDurationInSeconds must be a whole number from {MIN_DURATION_S} to {MAX_DURATION_S}"
        )
    processors = services.stream_processors
    session_id = str(uuid.uuid4())
    start: dict[str, Any] = {key: params[key] for key in ("StartSelector", "StopSelector") if key in params}
    try:
        processor = processors.store.begin_session(name, session_id, start, processors.max_running)
    except ProcessorMissing:
        raise _missing(name) from None
    except WrongStatus as status:
        raise ResourceInUseException(
            f"The stream processor {name} is {status}, not STOPPED or FAILED"
        ) from None
    except TooManyRunning:
        # StartStreamProcessor declares no LimitExceeded: the server's running slots are in use.
        raise ResourceInUseException(
            f"{processors.max_running} stream processors are already running "
            "(OPENREK_MAX_RUNNING_STREAM_PROCESSORS); stop one first"
        ) from None
    processors.runner.start(processor)
    return {"SessionId": session_id}


def _check_start_selector(selector: dict[str, Any]) -> None:
    kvs = selector.get("KVSStreamStartSelector") or {}
    if ("KVSProducerTimestamp" in kvs) == ("FragmentNumber" in kvs):
        raise InvalidParameterException(
            "StartSelector.KVSStreamStartSelector must have exactly one of KVSProducerTimestamp or FragmentNumber"
        )
    if "FragmentNumber" in kvs:
        # Sources here are live video, not Kinesis Video fragments kept for replay.
        raise InvalidParameterException(
            "StartSelector.KVSStreamStartSelector.FragmentNumber cannot be honoured: this server keeps no "
            "Kinesis Video fragments; use KVSProducerTimestamp"
        )
    stamp = kvs["KVSProducerTimestamp"]
    if isinstance(stamp, bool) or not isinstance(stamp, int) or stamp < 0:
        raise InvalidParameterException(
            "StartSelector.KVSStreamStartSelector.KVSProducerTimestamp must be epoch milliseconds"
        )


def stop_stream_processor(params: dict[str, Any], services: Services) -> dict[str, Any]:
    name = params["Name"]
    processors = services.stream_processors
    _processor_or_404(services, name)
    if not processors.store.set_status(name, STOPPING, only_from=(STARTING, RUNNING)):
        status = _processor_or_404(services, name).status
        raise ResourceInUseException(f"The stream processor {name} is {status}, not running")
    processors.runner.stop(name)
    return {}


def update_stream_processor(params: dict[str, Any], services: Services) -> dict[str, Any]:
    name = params["Name"]
    processor = _processor_or_404(services, name)
    definition = dict(processor.definition)
    connected_home_only = ("SettingsForUpdate", "RegionsOfInterestForUpdate", "ParametersToDelete")
    if "FaceSearch" in definition["Settings"] and any(params.get(key) for key in connected_home_only):
        raise InvalidParameterException(
            "Only DataSharingPreference can be updated on a FaceSearch stream processor"
        )
    if "ConnectedHome" in definition["Settings"]:
        _update_connected_home(definition, params)
    if "DataSharingPreferenceForUpdate" in params:
        definition["DataSharingPreference"] = params["DataSharingPreferenceForUpdate"]
    try:
        services.stream_processors.store.update_definition(name, definition)
    except ProcessorMissing:
        raise _missing(name) from None
    except WrongStatus as status:
        raise ResourceInUseException(f"The stream processor {name} is {status}; try again") from None
    return {}


def _update_connected_home(definition: dict[str, Any], params: dict[str, Any]) -> None:
    """SettingsForUpdate.ConnectedHomeForUpdate, RegionsOfInterestForUpdate and
    ParametersToDelete applied to `definition`, then checked as at Create."""
    settings = dict(definition["Settings"]["ConnectedHome"])
    for_update = (params.get("SettingsForUpdate") or {}).get("ConnectedHomeForUpdate") or {}
    settings.update({key: for_update[key] for key in ("Labels", "MinConfidence") if key in for_update})
    to_delete = params.get("ParametersToDelete") or []
    unknown = [p for p in to_delete if p not in DELETABLE]
    if unknown:
        raise InvalidParameterException(
            f"ParametersToDelete has {unknown[0]!r}; it can name {' and '.join(DELETABLE)}"
        )
    if "ConnectedHomeMinConfidence" in to_delete:
        if "MinConfidence" in for_update:
            raise InvalidParameterException("MinConfidence cannot be both updated and deleted")
        settings.pop("MinConfidence", None)  # back to the default
    if "RegionsOfInterest" in to_delete:
        if "RegionsOfInterestForUpdate" in params:
            raise InvalidParameterException("RegionsOfInterest cannot be both updated and deleted")
        definition.pop("RegionsOfInterest", None)
    if "RegionsOfInterestForUpdate" in params:
        definition["RegionsOfInterest"] = params["RegionsOfInterestForUpdate"]
    definition["Settings"] = {"ConnectedHome": settings}
    _check_connected_home_settings(definition)


def tag_stream_processor(processor: StreamProcessor, tags: dict[str, str], services: Services) -> None:
    merged = {**processor.tags, **tags}
    check_tags(merged)
    services.stream_processors.store.set_tags(processor.name, merged)


def untag_stream_processor(processor: StreamProcessor, keys: list[str], services: Services) -> None:
    remaining = {k: v for k, v in processor.tags.items() if k not in set(keys)}
    services.stream_processors.store.set_tags(processor.name, remaining)


HANDLERS: dict[str, Handler[Services]] = {
    "CreateStreamProcessor": create_stream_processor,
    "DescribeStreamProcessor": describe_stream_processor,
    "ListStreamProcessors": list_stream_processors,
    "DeleteStreamProcessor": delete_stream_processor,
    "StartStreamProcessor": start_stream_processor,
    "StopStreamProcessor": stop_stream_processor,
    "UpdateStreamProcessor": update_stream_processor,
}

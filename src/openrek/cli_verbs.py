"""AWS-CLI-shaped verbs for local files: `openrek detect-faces photo.jpg`, ...

Options come from the operation's input shape in botocore's model, named as the
AWS CLI names them (`--collection-id`, `--max-faces`, `--face-ids a b`); image
members are given as local file paths instead of `fileb://` blobs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.model import ListShape, MapShape, Shape, StructureShape

from openrek.protocol.service_model import operation_model

# verb -> (operation, the Image members filled from positional file arguments)
VERBS: dict[str, tuple[str, tuple[str, ...]]] = {
    "detect-faces": ("DetectFaces", ("Image",)),
    "compare-faces": ("CompareFaces", ("SourceImage", "TargetImage")),
    "create-collection": ("CreateCollection", ()),
    "describe-collection": ("DescribeCollection", ()),
    "list-collections": ("ListCollections", ()),
    "delete-collection": ("DeleteCollection", ()),
    "index-faces": ("IndexFaces", ("Image",)),
    "list-faces": ("ListFaces", ()),
    "delete-faces": ("DeleteFaces", ()),
    "search-faces": ("SearchFaces", ()),
    "search-faces-by-image": ("SearchFacesByImage", ("Image",)),
    "create-user": ("CreateUser", ()),
    "delete-user": ("DeleteUser", ()),
    "list-users": ("ListUsers", ()),
    "associate-faces": ("AssociateFaces", ()),
    "disassociate-faces": ("DisassociateFaces", ()),
    "search-users": ("SearchUsers", ()),
    "search-users-by-image": ("SearchUsersByImage", ("Image",)),
    "detect-labels": ("DetectLabels", ("Image",)),
    "detect-text": ("DetectText", ("Image",)),
    "detect-moderation-labels": ("DetectModerationLabels", ("Image",)),
    "detect-protective-equipment": ("DetectProtectiveEquipment", ("Image",)),
    "start-face-detection": ("StartFaceDetection", ()),
    "get-face-detection": ("GetFaceDetection", ()),
    "start-face-search": ("StartFaceSearch", ()),
    "get-face-search": ("GetFaceSearch", ()),
    "start-text-detection": ("StartTextDetection", ()),
    "get-text-detection": ("GetTextDetection", ()),
    "start-label-detection": ("StartLabelDetection", ()),
    "get-label-detection": ("GetLabelDetection", ()),
    "create-stream-processor": ("CreateStreamProcessor", ()),
    "describe-stream-processor": ("DescribeStreamProcessor", ()),
    "list-stream-processors": ("ListStreamProcessors", ()),
    "start-stream-processor": ("StartStreamProcessor", ()),
    "stop-stream-processor": ("StopStreamProcessor", ()),
    "update-stream-processor": ("UpdateStreamProcessor", ()),
    "delete-stream-processor": ("DeleteStreamProcessor", ()),
    "start-content-moderation": ("StartContentModeration", ()),
    "get-content-moderation": ("GetContentModeration", ()),
    "start-media-analysis-job": ("StartMediaAnalysisJob", ()),
    "get-media-analysis-job": ("GetMediaAnalysisJob", ()),
    "list-media-analysis-jobs": ("ListMediaAnalysisJobs", ()),
    "create-project": ("CreateProject", ()),
    "describe-projects": ("DescribeProjects", ()),
    "delete-project": ("DeleteProject", ()),
    "create-dataset": ("CreateDataset", ()),
    "describe-dataset": ("DescribeDataset", ()),
    "list-dataset-entries": ("ListDatasetEntries", ()),
    "list-dataset-labels": ("ListDatasetLabels", ()),
    "update-dataset-entries": ("UpdateDatasetEntries", ()),
    "distribute-dataset-entries": ("DistributeDatasetEntries", ()),
    "delete-dataset": ("DeleteDataset", ()),
    "create-project-version": ("CreateProjectVersion", ()),
    "describe-project-versions": ("DescribeProjectVersions", ()),
    "start-project-version": ("StartProjectVersion", ()),
    "stop-project-version": ("StopProjectVersion", ()),
    "detect-custom-labels": ("DetectCustomLabels", ("Image",)),
    "delete-project-version": ("DeleteProjectVersion", ()),
    "copy-project-version": ("CopyProjectVersion", ()),
    "put-project-policy": ("PutProjectPolicy", ()),
    "list-project-policies": ("ListProjectPolicies", ()),
    "delete-project-policy": ("DeleteProjectPolicy", ()),
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
SCALARS: dict[str, Callable[[str], Any]] = {"string": str, "integer": int, "long": int, "float": float}


def video_location(text: str) -> dict[str, Any]:
    """`s3://bucket/key` (or the AWS CLI's JSON) -> the Video member."""
    if text.startswith("s3://"):
        bucket, _, key = text[len("s3://") :].partition("/")
        if not bucket or not key:
            raise argparse.ArgumentTypeError(f"{text!r} is not s3://bucket/key")
        return {"S3Object": {"Bucket": bucket, "Name": key}}
    video: dict[str, Any] = json.loads(text)
    return video


def _option(member: str) -> str:
    return "--" + str(xform_name(member, "-"))


def add_verbs(commands: Any, run: Callable[[argparse.Namespace], int]) -> None:
    for verb, (operation, images) in VERBS.items():
        model = operation_model(operation)
        assert model is not None
        shape = model.input_shape
        assert shape is not None  # every verb's operation takes input
        parser = commands.add_parser(verb, help=f"{operation} on local files")
        for image_member in images:
            parser.add_argument(
                xform_name(image_member),
                metavar=image_member.upper(),
                help="JPEG or PNG file" + (" or a folder of them" if verb == "index-faces" else ""),
            )
        for name, member in shape.members.items():
            if name in images:
                continue
            required = name in shape.required_members
            if name == "Video":
                parser.add_argument(
                    "--video", dest=name, type=video_location, required=required, help="s3://bucket/key"
                )
            elif member.type_name in SCALARS:
                parser.add_argument(
                    _option(name),
                    dest=name,
                    type=SCALARS[member.type_name],
                    required=required,
                    choices=getattr(member, "enum", None) or None,
                )
            elif isinstance(member, ListShape) and member.member.type_name == "string":
                parser.add_argument(
                    _option(name),
                    dest=name,
                    nargs="+",
                    required=required,
                    choices=getattr(member.member, "enum", None) or None,
                )
            elif member.type_name == "boolean":
                # As the AWS CLI spells them: --labeled / --no-labeled
                parser.add_argument(
                    _option(name), dest=name, action=argparse.BooleanOptionalAction, required=required
                )
            elif member.type_name == "map":
                parser.add_argument(
                    _option(name),
                    dest=name,
                    type=json.loads,
                    required=required,
                    help='JSON object, e.g. \'{"team": "door"}\'',
                )
            elif member.type_name in ("structure", "list"):
                # As the AWS CLI accepts them: JSON, e.g. --filters '{"WordFilter": {...}}'
                parser.add_argument(
                    _option(name), dest=name, type=json.loads, required=required, help=f"JSON ({member.name})"
                )
        add_connection_options(parser)
        parser.set_defaults(run=run, verb=verb)


def _params(args: argparse.Namespace, operation: str) -> dict[str, Any]:
    model = operation_model(operation)
    assert model is not None and model.input_shape is not None
    members = model.input_shape.members
    return {
        name: _blob_text_as_bytes(members[name], getattr(args, name))
        for name in members
        if getattr(args, name, None) is not None
    }


def _blob_text_as_bytes(shape: Shape, value: Any) -> Any:
    """Blobs inside JSON options (UpdateDatasetEntries' Changes.GroundTruth) are given as
    text; boto3 and the in-process client both send bytes as the blob's base64."""
    if shape.type_name == "blob" and isinstance(value, str):
        return value.encode()
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {
            key: _blob_text_as_bytes(shape.members[key], item) if key in shape.members else item
            for key, item in value.items()
        }
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_blob_text_as_bytes(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _blob_text_as_bytes(shape.value, item) for key, item in value.items()}
    return value


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="run in this process on this data dir (default: OPENREK_DATA_DIR)",
    )
    parser.add_argument(
        "--endpoint-url", default=None, help="call a running server instead, e.g. http://127.0.0.1:8765"
    )
    parser.add_argument("--region", default=None, help="with --endpoint-url (default us-east-1)")


def _external_id(path: Path) -> str:
    return re.sub(r"[^a-zA-Z0-9_.\-:]", "_", path.name)[:255]


def _progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:40}")
    sys.stderr.flush()


def _index_folder(client: Any, folder: Path, params: dict[str, Any]) -> dict[str, Any]:
    """IndexFaces on every photo in a folder, ExternalImageId = file name."""
    from botocore.exceptions import ClientError

    photos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    summary: dict[str, Any] = {"Indexed": [], "Failed": []}
    for number, photo in enumerate(photos, 1):
        _progress(number - 1, len(photos), photo.name)
        call = {**params, "Image": {"Bytes": photo.read_bytes()}}
        call.setdefault("ExternalImageId", _external_id(photo))
        try:
            result = client.index_faces(**call)
            summary["Indexed"].append(
                {
                    "File": str(photo),
                    "FaceIds": [r["Face"]["FaceId"] for r in result["FaceRecords"]],
                    "UnindexedFaces": len(result["UnindexedFaces"]),
                }
            )
        except ClientError as error:
            summary["Failed"].append({"File": str(photo), "Error": error.response["Error"]["Code"]})
    _progress(len(photos), len(photos), "done")
    sys.stderr.write("\n")
    return summary


def run_verb(client: Any, args: argparse.Namespace) -> dict[str, Any]:
    operation, images = VERBS[args.verb]
    params = _params(args, operation)
    paths = [Path(getattr(args, xform_name(member))) for member in images]
    if args.verb == "index-faces" and paths[0].is_dir():
        return _index_folder(client, paths[0], params)
    for member, path in zip(images, paths, strict=True):
        params[member] = {"Bytes": path.read_bytes()}
    result: dict[str, Any] = getattr(client, xform_name(operation))(**params)
    return result

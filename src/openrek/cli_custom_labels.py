"""`openrek custom-labels train FOLDER --project P`: a folder of class subfolders to a
trained Custom Labels model, through the same API calls a boto3 user would make.

FOLDER/<label>/*.jpg|png are the training images; FOLDER/test/<label>/... when present
is the TEST dataset, else the service holds out 20% per label. The images are copied
into a bucket folder of the data directory (`<data-dir>/s3/<bucket>/<project>/...`):
a dataset's images are the user's own S3 objects, and that folder is the local S3.
With `--detection MANIFEST` the manifest is a Ground Truth object-detection manifest
whose source-refs are s3:// URIs or paths relative to FOLDER (those are copied).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from openrek.cli_verbs import IMAGE_SUFFIXES, add_connection_options

DEFAULT_BUCKET = "openrek-custom-labels"
TEST_FOLDER = "test"  # FOLDER/test/<label>/... is the TEST dataset
DONE = ("TRAINING_COMPLETED", "TRAINING_FAILED")
PERCENT = re.compile(r"(\d+)% done")


class TrainingInputError(Exception):
    """The folder or manifest cannot make a dataset; str(error) says why."""


def add_custom_labels_commands(commands: Any) -> None:
    group = commands.add_parser("custom-labels", help="train Custom Labels models from local folders")
    verbs = group.add_subparsers(dest="custom_labels_command", required=True)
    train = verbs.add_parser(
        "train",
        help="FOLDER/<label>/*.jpg -> dataset, trained version, evaluation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("folder", type=Path, metavar="FOLDER", help="class subfolders of JPEG/PNG images")
    train.add_argument("--project", required=True, help="project name (created if missing)")
    train.add_argument("--version-name", default=None, help="default: v<UTC timestamp>")
    train.add_argument(
        "--bucket", default=DEFAULT_BUCKET, help=f"bucket for images (default {DEFAULT_BUCKET})"
    )
    train.add_argument(
        "--detection",
        type=Path,
        default=None,
        metavar="MANIFEST",
        help="Ground Truth object-detection manifest instead of class subfolders",
    )
    train.add_argument(
        "--timeout", type=float, default=3900.0, help="seconds to wait for training (default 3900)"
    )
    add_connection_options(train)
    train.set_defaults(run=_run_train)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _class_folders(folder: Path) -> dict[str, list[Path]]:
    """label -> images, for every non-empty subfolder (the test folder excepted)."""
    return {
        sub.name: images
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and sub.name != TEST_FOLDER and (images := _images(sub))
    }


def _copy(source: Path, bucket_dir: Path, key: str) -> None:
    target = bucket_dir / key
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def classification_manifests(
    folder: Path, s3_dir: Path, bucket: str, project: str
) -> tuple[str, str | None, int]:
    """Copies the images into the bucket; the TRAIN manifest, the TEST one (or None) and
    the number of images."""
    from openrek.custom_labels.manifest import classification_line

    def manifest(root: Path, part: str) -> tuple[str, int]:
        lines = []
        for label, images in _class_folders(root).items():
            for image in images:
                key = f"{project}/{part}/{label}/{image.name}"
                _copy(image, s3_dir / bucket, key)
                lines.append(classification_line(f"s3://{bucket}/{key}", label))
        return "\n".join(lines) + "\n", len(lines)

    if not folder.is_dir():
        raise TrainingInputError(f"{folder} is not a folder")
    train, count = manifest(folder, "train")
    if count == 0:
        raise TrainingInputError(f"{folder} has no <label>/ subfolders with .jpg or .png images")
    test_root = folder / TEST_FOLDER
    if not test_root.is_dir():
        return train, None, count
    test, test_count = manifest(test_root, "test")
    if test_count == 0:
        raise TrainingInputError(f"{test_root} has no <label>/ subfolders with .jpg or .png images")
    return train, test, count + test_count


def detection_manifest(
    folder: Path, manifest: Path, s3_dir: Path, bucket: str, project: str
) -> tuple[str, int]:
    """The manifest with local source-refs copied into the bucket and rewritten."""
    lines = []
    for number, text in enumerate(manifest.read_text().splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            source = str(line["source-ref"])
        except (ValueError, KeyError, TypeError):
            raise TrainingInputError(f"{manifest}:{number} is not a JSON line with a source-ref") from None
        if not source.startswith("s3://"):
            image = folder / source
            if not image.is_file():
                raise TrainingInputError(f"{manifest}:{number}: {image} is not a file")
            key = f"{project}/train/{source}"
            _copy(image, s3_dir / bucket, key)
            line["source-ref"] = f"s3://{bucket}/{key}"
        lines.append(json.dumps(line))
    if not lines:
        raise TrainingInputError(f"{manifest} has no lines")
    return "\n".join(lines) + "\n", len(lines)


def _put_manifest(s3_dir: Path, bucket: str, key: str, body: str) -> dict[str, Any]:
    path = s3_dir / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return {"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}


def _project(client: Any, name: str) -> tuple[str, dict[str, str]]:
    """The project's ARN (created if missing) and its datasets' ARNs by type."""
    found = client.describe_projects(ProjectNames=[name])["ProjectDescriptions"]
    if found:
        datasets = {d["DatasetType"]: d["DatasetArn"] for d in found[0].get("Datasets", [])}
        return str(found[0]["ProjectArn"]), datasets
    return str(client.create_project(ProjectName=name)["ProjectArn"]), {}


def _wait_dataset(client: Any, arn: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_dataset(DatasetArn=arn)["DatasetDescription"]
        if not described["Status"].endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise TrainingInputError(f"dataset {arn} still being created after {timeout:.0f} s")
        time.sleep(0.2)
    if described["Status"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise TrainingInputError(f"dataset {arn}: {described['Status']}: {described.get('StatusMessage')}")
    stats = described.get("DatasetStats", {})
    if stats.get("ErrorEntries"):
        print(f"note: {stats['ErrorEntries']} manifest line(s) with errors are left out", file=sys.stderr)


def _draw(fraction: float, elapsed: float, status: str) -> None:
    width = 30
    filled = int(width * min(max(fraction, 0.0), 1.0))
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:3.0f}% {elapsed:5.0f} s {status}"
    )
    sys.stderr.flush()


def _wait_training(client: Any, project: str, version: str, timeout: float) -> dict[str, Any]:
    """Polls DescribeProjectVersions, drawing the percentage the StatusMessage carries."""
    started = time.monotonic()
    fraction = 0.0
    while True:
        described: dict[str, Any] = client.describe_project_versions(
            ProjectArn=project, VersionNames=[version]
        )["ProjectVersionDescriptions"][0]
        status = described["Status"]
        if status in DONE:
            fraction = 1.0 if status == "TRAINING_COMPLETED" else fraction
            _draw(fraction, time.monotonic() - started, status)
            sys.stderr.write("\n")
            return described
        percent = PERCENT.search(described.get("StatusMessage", ""))
        if percent:
            fraction = int(percent.group(1)) / 100
        _draw(fraction, time.monotonic() - started, status)
        if time.monotonic() - started > timeout:
            sys.stderr.write("\n")
            return described
        time.sleep(0.5)


def _summary(s3_dir: Path, described: dict[str, Any]) -> dict[str, Any] | None:
    where = described.get("EvaluationResult", {}).get("Summary", {}).get("S3Object")
    if not where:
        return None
    path = s3_dir / where["Bucket"] / where["Name"]
    if not path.is_file():
        return None
    summary: dict[str, Any] = json.loads(path.read_text())
    return summary


def evaluation_report(described: dict[str, Any], summary: dict[str, Any] | None) -> str:
    lines = [f"{described['ProjectVersionArn']}: {described['Status']}"]
    result = described.get("EvaluationResult")
    if result:
        lines.append(f"F1 {result['F1Score']:.3f} (mean of the labels' F1 on the test images)")
    if summary:
        details = summary["EvaluationDetails"]
        lines.append(
            f"{details['NumberOfTrainingImages']} training images, {details['NumberOfTestingImages']} test images"
        )
        lines.append(f"{'label':24} {'precision':>9} {'recall':>7} {'F1':>6} {'threshold':>9} {'test':>5}")
        for label in summary["LabelEvaluationResults"]:
            metrics = label["Metrics"]
            lines.append(
                f"{label['Label'][:24]:24} {metrics['Precision']:9.3f} {metrics['Recall']:7.3f} "
                f"{metrics['F1Score']:6.3f} {metrics['Threshold']:9.3f} {label['NumberOfTestingImages']:5d}"
            )
    billable = described.get("BillableTrainingTimeInSeconds")
    if billable is not None:
        lines.append(f"training time {billable} s")
    return "\n".join(lines)


def _run_train(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    from openrek.cli import _client, _settings

    if args.endpoint_url and args.data_dir is None:
        print(
            "openrek custom-labels train: with --endpoint-url give --data-dir, the server's data "
            "directory, whose s3/ folder is its local S3",
            file=sys.stderr,
        )
        return 2
    s3_dir = _settings(args).s3_dir
    version = args.version_name or time.strftime("v%Y%m%d-%H%M%S", time.gmtime())
    bucket, project_name = args.bucket, args.project
    try:
        if args.detection is not None:
            train, count = detection_manifest(args.folder, args.detection, s3_dir, bucket, project_name)
            test = None
        else:
            train, test, count = classification_manifests(args.folder, s3_dir, bucket, project_name)
        print(f"{count} images copied to s3://{bucket}/{project_name}/", file=sys.stderr)
        with _client(args) as client:
            project, datasets = _project(client, project_name)
            for kind, body in (("TRAIN", train), ("TEST", test)):
                if body is None:
                    continue
                arn = datasets.get(kind)
                if arn is None:
                    source = _put_manifest(s3_dir, bucket, f"{project_name}/{kind.lower()}.manifest", body)
                    created = client.create_dataset(
                        ProjectArn=project, DatasetType=kind, DatasetSource=source
                    )
                    arn = created["DatasetArn"]
                else:
                    # An existing project's dataset gains these entries (same source-ref: replaced).
                    client.update_dataset_entries(DatasetArn=arn, Changes={"GroundTruth": body.encode()})
                _wait_dataset(client, arn, timeout=600)
            client.create_project_version(
                ProjectArn=project,
                VersionName=version,
                OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": f"{project_name}/evaluation/"},
            )
            described = _wait_training(client, project, version, args.timeout)
    except ClientError as error:
        sys.stderr.write("\n")
        print(
            f"An error occurred ({error.response['Error']['Code']}): {error.response['Error']['Message']}",
            file=sys.stderr,
        )
        return 254  # the AWS CLI's exit code for a service error
    except TrainingInputError as error:
        print(f"openrek custom-labels train: {error}", file=sys.stderr)
        return 2
    if described["Status"] != "TRAINING_COMPLETED":
        print(f"{described['Status']}: {described.get('StatusMessage', '')}", file=sys.stderr)
        return 1
    print(evaluation_report(described, _summary(s3_dir, described)))
    return 0

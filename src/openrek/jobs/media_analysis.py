"""StartMediaAnalysisJob's work (Rekognition bulk analysis): DetectModerationLabels on every
image an input manifest names, results and a summary written to the output location.

Formats, as AWS documents them:
- input manifest: JSON lines, each `{"source-ref": "s3://bucket/key"}`;
- results: JSON lines, each `{"source-ref": ..., "detect-moderation-labels": <the
  DetectModerationLabels response for that image>}`, in manifest order, at
  `<S3KeyPrefix>/<JobId>-results.jsonl`;
- summary: `{"version": "1.0", "statistics": {"total-json-lines", "valid-json-lines",
  "invalid-json-lines"}, "errors": [...]}` at `<S3KeyPrefix>/<JobId>-manifest-summary.json`.

A line that cannot be used (not JSON, no s3:// source-ref, an image missing, corrupt
or too large) is counted invalid and listed in the summary's errors; it does not fail
the job. What fails the job, with AWS's FailureDetails code first in the stored
message, is a manifest that cannot be read or an output that cannot be written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openrek.imaging.budget import request_scope
from openrek.imaging.limits import ImageLimits
from openrek.inference.moderation.taxonomy import MODEL_VERSION
from openrek.jobs.rates import JobInterrupted
from openrek.jobs.runner import JobFailed
from openrek.jobs.s3_output import OutputUnwritable, S3Output
from openrek.jobs.store import Job
from openrek.operations.moderation import DEFAULT_MIN_CONFIDENCE, detect_moderation_labels
from openrek.protocol.errors import (
    ImageTooLargeException,
    InvalidManifestException,
    InvalidS3ObjectException,
    RekognitionError,
)

if TYPE_CHECKING:
    from openrek.services import Services

MiB = 1024 * 1024
# AWS's bulk analysis takes up to 10,000 images a job; a line holds one s3:// URI
# (bucket up to 255, key up to 1024 characters), so 10,000 lines fit in 16 MiB.
MAX_MANIFEST_LINES = 10_000
MAX_MANIFEST_BYTES = 16 * MiB
SUMMARY_VERSION = "1.0"
OPERATION_KEY = "detect-moderation-labels"
# The code a summary error carries for a line that names no image.
BAD_LINE = "InvalidManifestException"


@dataclass(frozen=True)
class ManifestLine:
    number: int  # 1-based, counting blank lines, so a user finds it in an editor
    text: str


class LineUnusable(Exception):
    """A manifest line that names no image; str(error) says why."""


def read_manifest(services: Services, s3_object: dict[str, Any]) -> list[ManifestLine]:
    """The manifest's non-blank lines. InvalidS3ObjectException when it cannot be read;
    InvalidManifestException when it is empty or over the limits."""
    # The manifest is read through the same door as images (local folder or S3
    # endpoint), with a byte limit of its own.
    limits = ImageLimits(max_s3_bytes=MAX_MANIFEST_BYTES)
    try:
        data = services.images.read({"S3Object": s3_object}, limits)
    except ImageTooLargeException:
        raise InvalidManifestException(
            f"The manifest is larger than the limit of {MAX_MANIFEST_BYTES} bytes"
        ) from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark from a Windows editor is fine
    except UnicodeDecodeError:
        raise InvalidManifestException("The manifest is not UTF-8 text (JSON lines)") from None
    lines = [
        ManifestLine(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()
    ]
    if not lines:
        raise InvalidManifestException("The manifest is empty")
    if len(lines) > MAX_MANIFEST_LINES:
        raise InvalidManifestException(
            f"The manifest has {len(lines)} lines; a job takes at most {MAX_MANIFEST_LINES}"
        )
    return lines


def source_of(line: ManifestLine) -> tuple[str, dict[str, Any]]:
    """The line's source-ref and the Image it names; LineUnusable otherwise."""
    try:
        entry = json.loads(line.text)
    except json.JSONDecodeError:
        raise LineUnusable("The line is not valid JSON") from None
    reference = entry.get("source-ref") if isinstance(entry, dict) else None
    if not isinstance(reference, str):
        raise LineUnusable('The line has no "source-ref" string')
    bucket, _, key = reference.removeprefix("s3://").partition("/")
    if not reference.startswith("s3://") or not bucket or not key:
        raise LineUnusable(f"source-ref {reference!r} is not an s3://bucket/key URI")
    return reference, {"S3Object": {"Bucket": bucket, "Name": key}}


def output_keys(prefix: str, job_id: str) -> tuple[str, str]:
    """Where AWS puts a job's results and summary: beside each other under the prefix."""
    base = f"{prefix}/{job_id}" if prefix and not prefix.endswith("/") else f"{prefix}{job_id}"
    return f"{base}-results.jsonl", f"{base}-manifest-summary.json"


def _error(line: ManifestLine, code: str, message: str, reference: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"line-number": line.number}
    # AWS's documentation spells this key "line-numer"; a reader written against
    # either spelling finds it.
    error["line-numer"] = line.number
    if reference is not None:
        error["source-ref"] = reference
    error.update({"code": code, "message": message})
    return error


def analyse_media(services: Services, job: Job) -> dict[str, Any]:
    request = job.request
    config = request["OperationsConfig"].get("DetectModerationLabels") or {}
    min_confidence = float(config.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))
    try:
        lines = read_manifest(services, request["Input"]["S3Object"])
    except InvalidS3ObjectException as error:
        raise JobFailed(f"INVALID_S3_OBJECT: the manifest cannot be read: {error.message}") from None
    except InvalidManifestException as error:
        raise JobFailed(f"INVALID_MANIFEST: {error.message}") from None

    stopping = services.video_jobs.runner.stopping
    results: list[str] = []
    errors: list[dict[str, Any]] = []
    for line in lines:
        if stopping.is_set():  # the server is stopping: re-run from the start next time
            raise JobInterrupted(job.job_id)
        try:
            reference, image = source_of(line)
        except LineUnusable as why:
            errors.append(_error(line, BAD_LINE, str(why)))
            continue
        try:
            # As one DetectModerationLabels request: the image's decoded pixels count
            # against the server's image budget until its answer is made.
            with request_scope():
                answer = detect_moderation_labels({"Image": image, "MinConfidence": min_confidence}, services)
        except RekognitionError as error:  # missing, corrupt, too small or too large: as the call says
            errors.append(_error(line, error.code, error.message, reference))
            continue
        results.append(json.dumps({"source-ref": reference, OPERATION_KEY: answer}))

    summary = {
        "version": SUMMARY_VERSION,
        "statistics": {
            "total-json-lines": len(lines),
            "valid-json-lines": len(results),
            "invalid-json-lines": len(errors),
        },
        "errors": errors,
    }
    output = request["OutputConfig"]
    bucket = output["S3Bucket"]
    results_key, summary_key = output_keys(output.get("S3KeyPrefix", ""), job.job_id)
    writer = S3Output(services.settings.s3_dir, services.settings.s3_endpoint_url)
    kms_key = request.get("KmsKeyId")
    try:
        writer.put(bucket, results_key, "".join(f"{r}\n" for r in results).encode(), kms_key)
        writer.put(bucket, summary_key, json.dumps(summary, indent=2).encode(), kms_key)
    except OutputUnwritable as why:
        raise JobFailed(f"INVALID_OUTPUT_CONFIG: {why}") from None
    return {
        "Results": {
            "S3Object": {"Bucket": bucket, "Name": results_key},
            "ModelVersions": {"Moderation": MODEL_VERSION},
        },
        "ManifestSummary": {"S3Object": {"Bucket": bucket, "Name": summary_key}},
    }

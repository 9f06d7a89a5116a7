"""Custom Labels across two servers and two workers on one PostgreSQL, images and
manifests in a loopback S3: a project made through one server is seen through the
other, a worker that dies mid-training has its training finished by another, and a
version started through one server answers DetectCustomLabels through both, with a
model neither server trained."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.exceptions import ClientError

from openrek.custom_labels.manifest import classification_line
from tests.cluster.test_shared_database import WorkerProcess, cluster_env, servers  # noqa: F401
from tests.conftest import ServerProcess, rekognition_client
from tests.custom_labels.helpers import dataset_status, version_status
from tests.custom_labels.scenes import PORTRAITS, SCENES
from tests.shapes import assert_valid_output

pytestmark = [pytest.mark.needs_server, pytest.mark.needs_moto, pytest.mark.needs_postgres]

BUCKET = "cluster-media"
HELD_OUT = 2


@pytest.fixture
def manifest(cluster_env: dict[str, str], photos: Path) -> Iterator[str]:  # noqa: F811
    s3 = boto3.client(
        "s3",
        endpoint_url=cluster_env["OPENREK_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    lines = []
    for label, names in (("portrait", PORTRAITS), ("scene", SCENES)):
        for name in names[:-HELD_OUT]:
            key = f"custom-labels/{label}/{Path(name).name}"
            s3.put_object(Bucket=BUCKET, Key=key, Body=(photos / name).read_bytes())
            lines.append(classification_line(f"s3://{BUCKET}/{key}", label))
    s3.put_object(Bucket=BUCKET, Key="custom-labels/train.manifest", Body="\n".join(lines).encode())
    yield "custom-labels/train.manifest"


def _holder(url: str, project: str) -> tuple[str | None, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT document->'versions'->'v1'->>'holder', (document->'versions'->'v1'->>'attempt')::int "
            "FROM custom_labels_projects WHERE name = %s",
            (project,),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _held_by(url: str, project: str, process: str, attempt: int) -> bool:
    holder, claimed = _holder(url, project)
    return holder is not None and holder.rsplit(":", 1)[0] == process and claimed == attempt


def test_training_survives_a_worker_dying_and_every_server_answers_for_the_model(
    servers: list[ServerProcess],  # noqa: F811
    cluster_env: dict[str, str],  # noqa: F811
    manifest: str,
    postgres_url: str,
    photos: Path,
    tmp_path: Path,
) -> None:
    a, b = (rekognition_client(s.url) for s in servers)
    project = a.create_project(ProjectName="shared-portraits")["ProjectArn"]
    assert [p["ProjectArn"] for p in b.describe_projects()["ProjectDescriptions"]] == [project]
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": manifest}}}
    train = b.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)["DatasetArn"]
    time.sleep(1.5)
    # Both servers run with --no-run-jobs: the dataset waits for a worker.
    assert a.describe_dataset(DatasetArn=train)["DatasetDescription"]["Status"] == "CREATE_IN_PROGRESS"

    first = WorkerProcess(tmp_path / "worker-1", cluster_env)
    second: WorkerProcess | None = None
    try:
        assert dataset_status(a, train)["Status"] == "CREATE_COMPLETE"
        b.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": BUCKET})
        deadline = time.monotonic() + 60
        process = first.name.rsplit(":", 1)[0]  # host:pid; each of its loops adds its own suffix
        while not _held_by(postgres_url, "shared-portraits", process, attempt=1):
            assert time.monotonic() < deadline, "the worker did not claim the training"
            time.sleep(0.2)
        time.sleep(2)
        first.kill()  # mid-training
        assert a.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]["Status"] == (
            "TRAINING_IN_PROGRESS"
        )
        second = WorkerProcess(tmp_path / "worker-2", cluster_env)
        trained = version_status(b, project, "v1", ("TRAINING_COMPLETED", "TRAINING_FAILED"))
        assert trained["Status"] == "TRAINING_COMPLETED", trained["StatusMessage"]
        assert _holder(postgres_url, "shared-portraits") == (None, 2)  # trained again, by the second
        assert trained["EvaluationResult"]["F1Score"] >= 0.8
        summary = trained["EvaluationResult"]["Summary"]["S3Object"]
        assert boto3.client(
            "s3",
            endpoint_url=cluster_env["OPENREK_S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).head_object(Bucket=summary["Bucket"], Key=summary["Name"])

        arn = trained["ProjectVersionArn"]
        assert a.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)["Status"] == "STARTING"
        assert version_status(b, project, "v1", ("RUNNING", "FAILED"), timeout=60)["Status"] == "RUNNING"
        for client in (a, b):  # neither server trained or started it: each loads it from the database
            for label, names in (("portrait", PORTRAITS), ("scene", SCENES)):
                for name in names[-HELD_OUT:]:
                    answer = client.detect_custom_labels(
                        ProjectVersionArn=arn, Image={"Bytes": (photos / name).read_bytes()}, MinConfidence=0
                    )
                    assert_valid_output("DetectCustomLabels", answer)
                    assert answer["CustomLabels"][0]["Name"] == label, (name, answer)

        b.stop_project_version(ProjectVersionArn=arn)
        assert version_status(a, project, "v1", ("STOPPED",), timeout=30)["Status"] == "STOPPED"
        with pytest.raises(ClientError) as stopped:
            a.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": (photos / SCENES[-1]).read_bytes()})
        assert stopped.value.response["Error"]["Code"] == "ResourceNotReadyException"
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_changes_through_two_servers_at_once_are_all_kept(servers: list[ServerProcess]) -> None:  # noqa: F811
    a, b = (rekognition_client(s.url) for s in servers)
    project = a.create_project(ProjectName="tagged")["ProjectArn"]
    clients: list[Any] = [a, b]

    def tag(which: int) -> None:
        for n in range(10):
            clients[which].tag_resource(ResourceArn=project, Tags={f"k{which}-{n}": "v"})

    threads = [threading.Thread(target=tag, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(b.list_tags_for_resource(ResourceArn=project)["Tags"]) == 20

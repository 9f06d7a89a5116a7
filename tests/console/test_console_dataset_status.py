"""A dataset the page shows while nothing has read it yet, and one whose manifest is missing.

The server runs with --no-run-jobs on PostgreSQL, so its datasets stay CREATE_IN_PROGRESS
until an `openrek worker` starts: the page must keep polling DescribeDataset and ask for
labels and entries only once the dataset is created (ListDatasetLabels answers a dataset
in progress with ResourceInUseException, as AWS does). A dataset that failed shows its
status and message, not an error from a listing it cannot have.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from openrek.custom_labels.manifest import classification_line
from openrek.models.store import ModelStore
from tests.cluster.test_shared_database import WorkerProcess
from tests.conftest import ServerProcess, moto_client
from tests.console.conftest import check_watch, open_console
from tests.custom_labels.scenes import PORTRAITS, SCENES
from tests.test_s3_endpoint import S3_KEYS

pytestmark = [pytest.mark.needs_server, pytest.mark.needs_moto, pytest.mark.needs_postgres]

BUCKET = "console-waiting"
POLLS_WHILE_WAITING = 3


@pytest.fixture
def shared_env(postgres_url: str, moto_endpoint: str, photos: Path) -> dict[str, str]:
    s3 = moto_client("s3", moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    lines = []
    for label, name in (("portrait", PORTRAITS[0]), ("scene", SCENES[0])):
        key = f"photos/{label}/{Path(name).name}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=(photos / name).read_bytes())
        lines.append(classification_line(f"s3://{BUCKET}/{key}", label))
    s3.put_object(Bucket=BUCKET, Key="train.manifest", Body="\n".join(lines).encode())
    return {"OPENREK_DATABASE_URL": postgres_url, "OPENREK_S3_ENDPOINT_URL": moto_endpoint, **S3_KEYS}


@pytest.fixture
def jobless_server(models: ModelStore, shared_env: dict[str, str], tmp_path: Path) -> Iterator[ServerProcess]:
    (tmp_path / "server").mkdir()
    server = ServerProcess(tmp_path / "server" / "data", env=shared_env, args=("--no-run-jobs",))
    yield server
    server.stop()


def test_a_dataset_waiting_for_a_worker_is_polled_then_listed(
    browser: Browser, jobless_server: ServerProcess, shared_env: dict[str, str], tmp_path: Path
) -> None:
    page, watch = open_console(browser, jobless_server.url)
    page.goto(jobless_server.url + "/console#/custom-labels")
    page.fill("#new-project", "waiting")
    page.click("#create-project")
    page.wait_for_selector("#project-title:has-text('waiting')")
    for kind, key in (("TRAIN", "train.manifest"), ("TEST", "missing.manifest")):
        page.fill(f"#dataset-{kind}-bucket", BUCKET)
        page.fill(f"#dataset-{kind}-key", key)
        page.click(f"#create-{kind.lower()}-dataset")
        page.wait_for_selector(f".dataset[data-type={kind}] .chip[data-status=CREATE_IN_PROGRESS]")

    # No worker yet: the page keeps asking, and asks for nothing a dataset in progress lacks.
    for _ in range(60):
        if len(watch.calls("DescribeDataset")) >= 2 * POLLS_WHILE_WAITING:
            break
        page.wait_for_timeout(500)
    assert len(watch.calls("DescribeDataset")) >= 2 * POLLS_WHILE_WAITING
    assert watch.calls("ListDatasetLabels") == watch.calls("ListDatasetEntries") == []
    assert page.locator(".dataset [role=alert]").count() == 0

    worker = WorkerProcess(tmp_path / "worker", shared_env)
    try:
        train = page.locator(".dataset[data-type=TRAIN]")
        page.wait_for_selector(".dataset[data-type=TRAIN] .chip[data-status=CREATE_COMPLETE]")
        page.wait_for_selector(".dataset[data-type=TRAIN] tr.entry")
        assert "2 entries, 2 labelled, 2 labels" in train.inner_text()
        assert train.locator("tr.entry").count() == 2
        assert "portrait (1 images)" in train.locator(".dataset-labels").inner_text()

        test = page.locator(".dataset[data-type=TEST]")
        page.wait_for_selector(".dataset[data-type=TEST] .chip[data-status=CREATE_FAILED]")
        assert "InvalidS3ObjectException" in test.inner_text()
        assert test.locator("[role=alert]").count() == 0
        # Labels and entries were asked of the created dataset only.
        train_arn = watch.calls("ListDatasetLabels")[0]["DatasetArn"]
        assert "/dataset/train/" in train_arn
        assert {call["DatasetArn"] for call in watch.calls("ListDatasetLabels")} == {train_arn}
        assert {call["DatasetArn"] for call in watch.calls("ListDatasetEntries")} == {train_arn}
    finally:
        worker.stop()
    check_watch(page, watch)

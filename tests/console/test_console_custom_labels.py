"""The Custom Labels page in a real browser: a project made, a dataset created from a
manifest of real photos and read a page at a time, a version trained, evaluated,
started, tried with DetectCustomLabels and stopped, all through the page; what it
shows is checked against boto3's answers for the same resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser

from openrek.custom_labels.manifest import classification_line
from tests.conftest import ServerProcess
from tests.console.conftest import check_watch, open_console
from tests.console.test_console_pages import PHONE, UNLABELLED
from tests.custom_labels.helpers import put_object
from tests.custom_labels.scenes import PORTRAITS, SCENES
from tests.shapes import assert_valid_output

BUCKET = "console-cl"
HELD_OUT = 3
TRAINING_TIMEOUT_MS = 180_000


def write_manifest(server: ServerProcess, photos: Path) -> int:
    lines = []
    for label, names in (("portrait", PORTRAITS), ("scene", SCENES)):
        for name in names[:-HELD_OUT]:
            key = f"photos/{label}/{Path(name).name}"
            lines.append(
                classification_line(
                    put_object(server.data_dir, BUCKET, key, (photos / name).read_bytes()), label
                )
            )
    put_object(server.data_dir, BUCKET, "train.manifest", "\n".join(lines).encode())
    return len(lines)


def test_a_project_trained_evaluated_and_tried_through_the_page(
    browser: Browser, server: ServerProcess, rekognition: Any, photos: Path, tmp_path: Path
) -> None:
    entries = write_manifest(server, photos)
    assert entries > 20  # more than one page of entries
    page, watch = open_console(browser, server.url)
    page.goto(server.url + "/console#/custom-labels")
    page.fill("#new-project", "console-portraits")
    page.click("#create-project")
    page.wait_for_selector("#project-title:has-text('console-portraits')")

    page.fill("#dataset-TRAIN-bucket", BUCKET)
    page.fill("#dataset-TRAIN-key", "train.manifest")
    page.click("#create-train-dataset")
    train = page.locator(".dataset[data-type=TRAIN]")
    page.wait_for_selector(".dataset[data-type=TRAIN] .chip[data-status=CREATE_COMPLETE]")
    page.wait_for_selector(".dataset[data-type=TRAIN] tr.entry")
    assert f"{entries} entries, {entries} labelled, 2 labels" in train.inner_text()
    assert train.locator("tr.entry").count() == 20
    page_one = train.locator("tr.entry td:first-child").all_inner_texts()
    assert all(ref.startswith(f"s3://{BUCKET}/photos/") for ref in page_one)
    assert {row.split("\t")[-1] for row in train.locator("tr.entry").all_inner_texts()} <= {
        "portrait",
        "scene",
    }
    train.get_by_role("button", name="Next").click()
    page.wait_for_function(
        "(n) => document.querySelectorAll('.dataset[data-type=TRAIN] tr.entry').length === n",
        arg=entries - 20,
    )
    assert {call["MaxResults"] for call in watch.calls("ListDatasetEntries")} == {20}
    # The TEST dataset is absent: the page offers to make one and says what happens without it.
    assert "holds out 20%" in page.inner_text(".dataset[data-type=TEST]")

    page.fill("#version-bucket", BUCKET)
    page.fill("#version-name", "v1")
    page.click("#train-version")
    row = "#version-list tr[data-version-arn*='/version/v1/']"
    page.wait_for_selector(f"{row}[data-status=TRAINING_COMPLETED]", timeout=TRAINING_TIMEOUT_MS)
    project_arn = page.get_attribute("section[data-project-arn]", "data-project-arn")
    described = rekognition.describe_project_versions(ProjectArn=project_arn, VersionNames=["v1"])
    assert_valid_output("DescribeProjectVersions", described)
    version = described["ProjectVersionDescriptions"][0]
    assert page.inner_text(f"{row} .version-f1") == f"{version['EvaluationResult']['F1Score']:.3f}"

    # Evaluation: F1 from the API, per-label metrics from the summary file the user fetched.
    page.click(f"{row} button:has-text('v1')")
    assert page.inner_text("#evaluation-f1").startswith(f"F1 {version['EvaluationResult']['F1Score']:.3f}")
    where = version["EvaluationResult"]["Summary"]["S3Object"]
    assert page.inner_text("#evaluation-summary-uri") == f"s3://{where['Bucket']}/{where['Name']}"
    summary_path = server.data_dir / "s3" / where["Bucket"] / where["Name"]
    page.set_input_files("#evaluation-file", str(summary_path))
    page.wait_for_selector("#evaluation-status.done")
    summary = json.loads(summary_path.read_text())
    for result in summary["LabelEvaluationResults"]:
        cells = page.locator(f"#evaluation-labels tr[data-label={result['Label']}] td").all_inner_texts()
        assert cells[3] == f"{result['Metrics']['F1Score']:.3f}"
        assert cells[4] == f"{result['Metrics']['Threshold']:.3f}"
    assert page.locator("#evaluation-labels tr").count() == 2
    # The percentage the page draws as a progress bar is read from StatusMessage as openrek writes it.
    assert (
        page.evaluate(
            """() => import("/console/static/pages/custom-labels.js")
            .then((m) => m.trainingPercent("The model is being trained (42% done)."))"""
        )
        == 42
    )

    page.click(f"{row} button:has-text('Start v1')")
    page.wait_for_selector(f"{row}[data-status=RUNNING]", timeout=60_000)
    page.wait_for_selector("#custom-try")
    held_out = photos / PORTRAITS[-1]
    page.set_input_files("#custom-photo", str(held_out))
    page.wait_for_selector("#custom-figures figure")
    page.click("#custom-detect")
    page.wait_for_selector("#custom-try-status.done")
    expected = rekognition.detect_custom_labels(
        ProjectVersionArn=version["ProjectVersionArn"], Image={"Bytes": held_out.read_bytes()}
    )
    assert_valid_output("DetectCustomLabels", expected)
    shown = page.locator("#custom-labels-found li").evaluate_all("items => items.map(i => i.dataset.name)")
    assert shown == [label["Name"] for label in expected["CustomLabels"]]
    assert shown[0] == "portrait"

    # Filled in, the page still names every control and fits a phone.
    assert page.evaluate(UNLABELLED) == []
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click(f"{row} button:has-text('Stop v1')")
    page.wait_for_selector(f"{row}[data-status=STOPPED]", timeout=60_000)
    assert (
        rekognition.describe_project_versions(ProjectArn=project_arn, VersionNames=["v1"])[
            "ProjectVersionDescriptions"
        ][0]["Status"]
        == "STOPPED"
    )
    check_watch(page, watch)

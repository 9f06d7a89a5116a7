"""The Video page uploads a chosen clip into the server's bucket folder, signed with
SigV4 in the browser (UNSIGNED-PAYLOAD), then starts a job on that S3 object and
follows it to SUCCEEDED. The server requires keys, so nothing here is unsigned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser

from tests.conftest import ServerProcess, rekognition_client
from tests.console.conftest import check_watch, open_console
from tests.console.test_console_keys import give_keys
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip

pytestmark = pytest.mark.needs_server  # its own server, started with keys

KEY_ID, SECRET = "AKIDVIDEOUPLOAD", "video-upload-s3cr3t"
# Spaces and parentheses: the path is URI-encoded once on the wire and once more when signed.
CLIP_NAME = "face upload (1).mp4"
BUCKET, KEY = "openrek-console", f"videos/{CLIP_NAME}"


@pytest.fixture(scope="module")
def locked(models: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("console-upload") / "data", env={"OPENREK_ACCESS_KEYS": f"{KEY_ID}:{SECRET}"}
    )
    yield process
    process.stop()


def test_a_chosen_clip_is_uploaded_and_a_job_succeeds_on_it(
    browser: Browser, locked: ServerProcess, photos: Path, tmp_path: Path
) -> None:
    # 0.6 s of a face, then 0.2 s of grey, 160x120: a short job.
    still = np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((160, 120)))
    clip = make_clip(tmp_path / CLIP_NAME, [(still, 15), (np.full_like(still, 128), 5)], fps=25)
    stored = locked.data_dir / "s3" / BUCKET / KEY
    assert not stored.exists()

    page, watch = open_console(browser, locked.url)
    page.goto(locked.url + "/console#/video")
    page.set_input_files("#video-file", str(clip))
    # The bucket and key default to the console's bucket and the file's name.
    assert (page.input_value("#video-bucket"), page.input_value("#video-key")) == (BUCKET, KEY)
    page.uncheck("#job-StartLabelDetection")
    page.check("#job-StartFaceDetection")
    page.click("#upload-and-start")
    give_keys(page, KEY_ID, SECRET)  # the upload is the page's first signed request
    page.wait_for_selector("#video-status.done, #video-status.error", timeout=120_000)
    assert page.get_attribute("#video-status", "class") == "status done", page.inner_text("#video-status")

    # The object the server holds is the file, byte for byte, and the page said so.
    assert stored.read_bytes() == clip.read_bytes()
    assert page.get_attribute("#upload-state", "data-uploaded") == f"{BUCKET}/{KEY}"
    assert page.eval_on_selector("#upload-progress", "p => p.value") == 1
    assert not list((locked.data_dir / "s3" / ".uploads").iterdir())
    (put,) = [url for url in watch.requests if "/console/uploads/" in url]
    assert put == f"{locked.url}/console/uploads/{BUCKET}/videos/face%20upload%20%281%29.mp4"

    # The job ran on that S3 object and found the face, as boto3 reads it too.
    (sent,) = watch.calls("StartFaceDetection")
    assert sent["Video"] == {"S3Object": {"Bucket": BUCKET, "Name": KEY}}
    row = page.locator("#video-jobs tr[data-operation=StartFaceDetection]")
    assert row.get_attribute("data-status") == "SUCCEEDED"
    rekognition = rekognition_client(locked.url, key_id=KEY_ID, secret=SECRET)
    answer = rekognition.get_face_detection(JobId=row.get_attribute("data-job-id"))
    assert_valid_output("GetFaceDetection", answer)
    assert answer["JobStatus"] == "SUCCEEDED"
    assert answer["Faces"] and all(face["Timestamp"] < 600 for face in answer["Faces"])
    assert row.locator(".job-count").inner_text() == str(len(answer["Faces"]))
    check_watch(page, watch)

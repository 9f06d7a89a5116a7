"""The Video page in a real browser: jobs started on a real clip, followed to the end,
their results laid on a timeline and drawn over the player at the time it seeks to.

The clip is written with PyAV into the server's local S3 folder (what `aws s3 cp` to
an S3 endpoint would do); the page plays the same file from disk. Every count the page
shows is checked against the same job's results read with boto3."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.conftest import ServerProcess
from tests.console.conftest import check_watch, open_console
from tests.console.test_console_pages import PHONE, UNLABELLED
from tests.shapes import assert_valid_output
from tests.video.clips import make_clip

BUCKET, KEY = "console-video", "door/face.mp4"
FPS = 25
JOBS = ["StartLabelDetection", "StartFaceDetection", "StartFaceSearch", "StartSegmentDetection"]
GETS = {
    "StartLabelDetection": ("get_label_detection", "GetLabelDetection", "Labels"),
    "StartFaceDetection": ("get_face_detection", "GetFaceDetection", "Faces"),
    "StartFaceSearch": ("get_face_search", "GetFaceSearch", "Persons"),
    "StartSegmentDetection": ("get_segment_detection", "GetSegmentDetection", "Segments"),
}


def face_clip(photos: Path, into: Path) -> Path:
    """1.2 s of a face photo, then 0.8 s of grey: h264 in mp4, 320x240."""
    still = np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((320, 240)))
    into.parent.mkdir(parents=True, exist_ok=True)
    return make_clip(into, [(still, 30), (np.full_like(still, 128), 20)], fps=FPS)


def results_of(rekognition: Any, start: str, job_id: str) -> list[dict[str, Any]]:
    method, operation, items = GETS[start]
    answer = getattr(rekognition, method)(JobId=job_id)
    assert_valid_output(operation, answer)
    assert answer["JobStatus"] == "SUCCEEDED" and "NextToken" not in answer
    found: list[dict[str, Any]] = answer[items]
    return found


def stamp(start: str, item: dict[str, Any]) -> int:
    return int(item["StartTimestampMillis"] if start == "StartSegmentDetection" else item["Timestamp"])


def drawn(page: Page) -> Counter[str]:
    roles = page.locator("#video-overlay [data-role]")
    return Counter(roles.evaluate_all("nodes => nodes.map(n => n.dataset.role)"))


def test_jobs_on_a_clip_laid_on_the_timeline_and_drawn_over_the_player(
    browser: Browser, server: ServerProcess, rekognition: Any, photos: Path
) -> None:
    clip = face_clip(photos, server.data_dir / "s3" / BUCKET / KEY)
    rekognition.create_collection(CollectionId="console-video-people")
    rekognition.index_faces(
        CollectionId="console-video-people",
        Image={"Bytes": (photos / "face_recognition/obama.jpg").read_bytes()},
        ExternalImageId="barack",
    )
    try:
        page, watch = open_console(browser, server.url)
        page.goto(server.url + "/console#/video")
        page.wait_for_selector("#video-upload-note")
        # The page says where a video comes from: its upload, the server's folder, or `aws s3 cp`.
        note = page.inner_text("#video-upload-note")
        assert "Upload and start jobs" in note and "aws s3 cp" in note and "<data-dir>/s3/BUCKET/KEY" in note
        page.set_input_files("#video-file", str(clip))
        page.wait_for_function("() => document.getElementById('video-player').readyState >= 1")
        # The chosen file's name under videos/, until the user says.
        assert page.input_value("#video-key") == "videos/face.mp4"
        page.fill("#video-bucket", BUCKET)
        page.fill("#video-key", KEY)
        page.fill("#video-collection", "console-video-people")
        for start in JOBS:
            page.check(f"#job-{start}")
        page.click("#start-jobs")
        page.wait_for_selector("#video-status.done, #video-status.error", timeout=120_000)
        assert page.get_attribute("#video-status", "class") == "status done", page.inner_text("#video-status")

        # Each Start* went out as the API documents it, with the bucket and key given.
        for start in JOBS:
            (sent,) = watch.calls(start)
            assert sent["Video"] == {"S3Object": {"Bucket": BUCKET, "Name": KEY}}
        assert watch.calls("StartFaceSearch")[0]["CollectionId"] == "console-video-people"

        job_ids = {
            row.get_attribute("data-operation"): row.get_attribute("data-job-id")
            for row in page.locator("#video-jobs tr[data-job-id]").all()
        }
        assert set(job_ids) == set(JOBS)
        results = {start: results_of(rekognition, start, str(job_ids[start])) for start in JOBS}
        faces = results["StartFaceDetection"]
        assert faces and all(stamp("StartFaceDetection", f) < 1200 for f in faces)
        assert results["StartSegmentDetection"], "a cut from the face to grey is a shot or a cue"

        # One mark a sampled time on each lane; a row with the job's count in the jobs table.
        for start in JOBS:
            times = {stamp(start, item) for item in results[start]}
            lane = page.locator(f"#video-timeline .lane[data-operation={start}] .mark")
            assert lane.count() == len(times), start
            assert sorted(int(t) for t in lane.evaluate_all("m => m.map(n => n.dataset.time)")) == sorted(
                times
            )
            row = page.locator(f"#video-jobs tr[data-operation={start}]")
            assert row.get_attribute("data-status") == "SUCCEEDED"
            assert row.locator(".job-count").inner_text() == str(len(results[start]))

        # Seek from the results list (keyboard-usable buttons) to a face sample, after the first.
        page.click("#video-jobs tr[data-operation=StartFaceDetection] button")
        face_times = sorted({stamp("StartFaceDetection", f) for f in faces})
        assert page.locator("#video-results tr[data-time]").count() == len(face_times)
        when = face_times[2]
        page.click(f"#video-results tr[data-time='{when}'] button.seek")
        page.wait_for_selector(f"#video-overlay[data-time='{when}']")
        shapes = drawn(page)
        at_when = [f for f in faces if f["Timestamp"] == when]
        assert shapes["face"] == len(at_when) == 1
        persons = [p for p in results["StartFaceSearch"] if p["Timestamp"] == when]
        assert shapes["match"] == sum(1 for p in persons if p["FaceMatches"])
        assert shapes["unmatched"] == sum(1 for p in persons if not p["FaceMatches"])
        assert shapes["match"] == 1 and "barack" in (page.text_content("#video-overlay .match") or "")
        # Labels are sampled once a second: the latest sample at or before `when` is held.
        labels = results["StartLabelDetection"]
        latest = max(
            (stamp("StartLabelDetection", x) for x in labels if x["Timestamp"] <= when), default=None
        )
        expected_instances = sum(
            len(x["Label"].get("Instances", [])) for x in labels if x["Timestamp"] == latest
        )
        assert shapes["label-instance"] == expected_instances
        # The face's box is where the API put it, in the video's pixels.
        box = at_when[0]["Face"]["BoundingBox"]
        rect = page.locator("#video-overlay [data-role=face] rect")
        assert abs(float(rect.get_attribute("x") or 0) - box["Left"] * 320) < 0.5
        assert abs(float(rect.get_attribute("width") or 0) - box["Width"] * 320) < 0.5

        # In the grey second nothing is drawn but what a lane holds for less than its step.
        page.click(
            "#video-timeline .lane[data-operation=StartSegmentDetection] .track", position={"x": 1, "y": 5}
        )
        page.wait_for_function(
            "(when) => document.getElementById('video-overlay').dataset.time !== String(when)", arg=when
        )
        page.evaluate("document.getElementById('video-player').currentTime = 1.9")
        page.wait_for_selector("#video-overlay[data-time='1900']")
        assert drawn(page)["face"] == 0
        # Filled in, the page still names every control and fits a phone.
        assert page.evaluate(UNLABELLED) == []
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        check_watch(page, watch)
    finally:
        rekognition.delete_collection(CollectionId="console-video-people")

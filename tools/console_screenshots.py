"""Screenshots of the web console for docs/console/, taken from a real `openrek serve`.

    .venv/bin/python tools/console_screenshots.py [--out docs/console] [--only photos,video,...]

Starts a server on a free loopback port with a throwaway data folder, drives Debian's
Chromium through Playwright over the evaluation photos (tools/eval_data.py), and writes
one small PNG per page (256-colour palettes keep them light in the repository). The
Video shots use a clip made with PyAV from an eval photo, put in the server's local S3;
the Stream processors shot runs moto_server for its Kinesis output; the Custom Labels
shot trains a small classifier on eval photos; the Face Liveness shot plays an eval photo
through Chromium's fake camera.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import Page, ViewportSize, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.eval_data import eval_data_dir, fetch

CHROMIUM = "/usr/bin/chromium"
DESKTOP: ViewportSize = {"width": 1200, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    env: dict[str, str] | None = None, prepare: Callable[[Path], None] | None = None
) -> Iterator[str]:
    """`prepare(data_dir)` runs first: files put in the server's local S3, sources registered."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="openrek-shots-") as data:
        if prepare is not None:
            prepare(Path(data))
        process = subprocess.Popen(
            [sys.executable, "-m", "openrek", "serve", "--port", str(port), "--data-dir", data],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(url + "/console/config.json", timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("openrek serve did not start") from None
                    time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            process.wait(30)


def save(page: Page, path: Path, full_page: bool = False) -> None:
    page.screenshot(path=str(path), full_page=full_page)
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KB)")


def wait_done(page: Page, selector: str) -> None:
    page.wait_for_selector(f"{selector}.done, {selector}.error", timeout=120_000)


def shoot(out: Path, photos: Path) -> None:
    with running_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url + "/console#/try")
        page.set_input_files("#try-photo", str(photos / "insightface/t1.jpg"))
        page.click("button[data-operation=DetectFaces]")
        wait_done(page, "#try-status")
        save(page, out / "try-detect-faces.png")

        page.set_input_files("#try-photo", str(photos / "face_recognition/obama.jpg"))
        page.set_input_files("#try-target", str(photos / "insightface/t1.jpg"))
        page.click("button[data-operation=CompareFaces]")
        wait_done(page, "#try-status")
        save(page, out / "try-compare-faces.png")

        with tempfile.TemporaryDirectory() as folder:
            people = Path(folder) / "people"
            for person, names in {"barack": ["obama.jpg", "obama2.jpg"], "joe": ["biden.jpg"]}.items():
                (people / person).mkdir(parents=True)
                for name in names:
                    shutil.copy(photos / "face_recognition" / name, people / person / name)
            shutil.copy(photos / "insightface/t1.jpg", people / "friends.jpg")
            page.goto(url + "/console#/collections")
            page.fill("#new-collection", "people")
            page.click("#create-collection")
            page.wait_for_selector("#collection-title")
            page.click("button[role=tab][data-view='Index photos']")
            page.set_input_files("#index-folder", str(people))
            page.wait_for_selector("#index-progress-text.done", timeout=120_000)
            save(page, out / "collections-index.png")
        page.click("button[role=tab][data-view='Faces']")
        page.wait_for_selector("#face-grid .face-card")
        save(page, out / "collections-faces.png")
        page.click("button[role=tab][data-view='Search by image']")
        page.set_input_files("#search-photo", str(photos / "face_recognition/obama3.jpg"))
        page.wait_for_selector("#pane-2 figure")
        page.click("#search-faces")
        wait_done(page, "#search-outcome")
        save(page, out / "collections-search.png")

        page.goto(url + "/console#/models")
        page.wait_for_selector("#models-table tbody tr")
        save(page, out / "models.png")

        phone = browser.new_page(viewport=PHONE)
        phone.goto(url + "/console#/try")
        phone.set_input_files("#try-photo", str(photos / "opencv-doc/scenetext01.jpg"))
        phone.click("button[data-operation=DetectText]")
        wait_done(phone, "#try-status")
        save(phone, out / "phone-detect-text.png")
        browser.close()

    with (
        running_server({"OPENREK_ACCESS_KEYS": "AKIDEXAMPLE:example-secret"}) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url + "/console#/collections")
        page.wait_for_selector("dialog.keys[open]")
        page.fill("#access-key-id", "AKIDEXAMPLE")
        save(page, out / "keys.png")
        browser.close()


def face_still(photos: Path, size: tuple[int, int] = (640, 480)) -> Any:
    return np.asarray(Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize(size))


def write_clip(path: Path, segments: list[tuple[Any, int]], fps: int = 25) -> Path:
    """Pictures, each shown for a number of frames: h264 in mp4 (tests/video/clips.py)."""
    from tests.video.clips import make_clip

    path.parent.mkdir(parents=True, exist_ok=True)
    return make_clip(path, segments, fps=fps)


def shoot_video(out: Path, photos: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "door.mp4"
        still = face_still(photos)
        write_clip(clip, [(still, 50), (np.full_like(still, 128), 25), (still[:, ::-1].copy(), 50)])

        def prepare(data: Path) -> None:
            (data / "s3" / "videos").mkdir(parents=True)
            shutil.copy(clip, data / "s3" / "videos" / "door.mp4")

        with running_server(prepare=prepare) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport=DESKTOP)
            page.goto(url + "/console#/video")
            page.set_input_files("#video-file", str(clip))
            page.fill("#video-bucket", "videos")  # the folder prepare() copied the clip into
            page.fill("#video-key", "door.mp4")
            for start in (
                "StartFaceDetection",
                "StartLabelDetection",
                "StartSegmentDetection",
                "StartPersonTracking",
            ):
                page.check(f"#job-{start}")
            page.click("#start-jobs")
            wait_done(page, "#video-status")
            page.click("#video-jobs tr[data-operation=StartFaceDetection] button")
            page.locator("#video-results tr[data-time] button.seek").nth(3).click()
            page.wait_for_selector("#video-overlay [data-role=face]")
            page.locator("#video-player-title").scroll_into_view_if_needed()
            save(page, out / "video-timeline.png", full_page=True)
            browser.close()


@contextmanager
def moto_server() -> Iterator[str]:
    """moto_server on loopback: the Kinesis stream a FaceSearch processor writes to."""
    port = free_port()
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


MOTO_KEYS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def shoot_streams(out: Path, photos: Path) -> None:
    import boto3

    with tempfile.TemporaryDirectory() as folder, moto_server() as moto:
        clip = write_clip(Path(folder) / "door.mp4", [(face_still(photos), 25 * 30)])
        boto3.client("kinesis", endpoint_url=moto, **_moto_client_keys()).create_stream(
            StreamName="door-matches", ShardCount=1
        )

        def prepare(data: Path) -> None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "openrek",
                    "video-streams",
                    "put",
                    "door",
                    str(clip),
                    "--data-dir",
                    str(data),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )

        env = {"OPENREK_KINESIS_ENDPOINT_URL": moto, **MOTO_KEYS}
        with running_server(env, prepare) as url, sync_playwright() as playwright:
            rekognition = boto3.client("rekognition", endpoint_url=url, **_moto_client_keys())
            rekognition.create_collection(CollectionId="staff")
            rekognition.index_faces(
                CollectionId="staff",
                Image={"Bytes": (photos / "face_recognition/obama.jpg").read_bytes()},
                ExternalImageId="barack",
            )
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport=DESKTOP)
            page.goto(url + "/console#/streams")
            page.click("#stream-create summary")
            page.fill("#stream-name", "front-door")
            page.fill("#stream-input", "arn:aws:kinesisvideo:us-east-1:000000000000:stream/door/1")
            page.fill("#stream-collection", "staff")
            page.fill("#stream-kinesis", "arn:aws:kinesis:us-east-1:000000000000:stream/door-matches")
            page.click("#stream-create-submit")
            page.wait_for_selector("section[data-name='front-door'][data-status=STOPPED]")
            page.click("#stream-start")
            page.wait_for_selector("section[data-name='front-door'][data-status=RUNNING]", timeout=60_000)
            page.click("#stream-create summary")  # folded again: the shot is the processor
            save(page, out / "streams.png", full_page=True)
            page.click("#stream-stop")
            page.wait_for_selector("section[data-name='front-door'][data-status=STOPPED]", timeout=60_000)
            browser.close()


def _moto_client_keys() -> dict[str, str]:
    return {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def shoot_custom_labels(out: Path, photos: Path) -> None:
    from openrek.custom_labels.manifest import classification_line
    from tests.custom_labels.scenes import PORTRAITS, SCENES

    def prepare(data: Path) -> None:
        lines = []
        for label, names in (("portrait", PORTRAITS), ("scene", SCENES)):
            for name in names[:-3]:
                key = f"photos/{label}/{Path(name).name}"
                (data / "s3" / "pictures" / key).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(photos / name, data / "s3" / "pictures" / key)
                lines.append(classification_line(f"s3://pictures/{key}", label))
        (data / "s3" / "pictures" / "train.manifest").write_text("\n".join(lines))
        prepared.append(data)

    prepared: list[Path] = []
    with running_server(prepare=prepare) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url + "/console#/custom-labels")
        page.fill("#new-project", "portraits-or-scenes")
        page.click("#create-project")
        page.wait_for_selector("#project-title")
        page.fill("#dataset-TRAIN-bucket", "pictures")
        page.fill("#dataset-TRAIN-key", "train.manifest")
        page.click("#create-train-dataset")
        page.wait_for_selector(".dataset[data-type=TRAIN] tr.entry")
        page.fill("#version-name", "v1")
        page.fill("#version-bucket", "pictures")
        page.click("#train-version")
        row = "#version-list tr[data-version-arn*='/version/v1/']"
        page.wait_for_selector(f"{row}[data-status=TRAINING_COMPLETED]", timeout=300_000)
        page.click(f"{row} button:has-text('Start v1')")
        page.wait_for_selector(f"{row}[data-status=RUNNING]", timeout=60_000)
        page.click(f"{row} td:first-child button")
        summary = page.inner_text("#evaluation-summary-uri").removeprefix("s3://").split("/", 1)
        page.set_input_files("#evaluation-file", str(prepared[0] / "s3" / summary[0] / summary[1]))
        page.wait_for_selector("#evaluation-status.done")
        page.set_input_files("#custom-photo", str(photos / PORTRAITS[-1]))
        page.wait_for_selector("#custom-figures figure")
        page.click("#custom-detect")
        wait_done(page, "#custom-try-status")
        save(page, out / "custom-labels.png", full_page=True)
        browser.close()


def shoot_liveness(out: Path, photos: Path) -> None:
    """The capture page mid-flash, at phone width, its camera Chromium's fake one
    playing an eval photo (tests/console/fake_camera.py)."""
    import boto3

    from tests.console.fake_camera import camera_args, write_y4m

    with tempfile.TemporaryDirectory() as folder, running_server() as url, sync_playwright() as playwright:
        camera = write_y4m(Path(folder) / "camera.y4m", [face_still(photos)] * 15, 15)
        rekognition = boto3.client(
            "rekognition",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="anything",
            aws_secret_access_key="anything",
        )
        session_id = rekognition.create_face_liveness_session()["SessionId"]
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", *camera_args(camera)]
        )
        page = browser.new_context(viewport=PHONE, permissions=["camera"]).new_page()
        page.goto(f"{url}/console/liveness?sessionId={session_id}")
        page.click("#liveness-start")
        page.wait_for_selector("body.flashing", timeout=60_000)
        page.wait_for_timeout(150)
        save(page, out / "liveness-capture.png")
        wait_done(page, "#liveness-status")
        browser.close()


GROUPS: dict[str, Callable[[Path, Path], None]] = {
    "photos": shoot,  # Try, Collections, Models, the phone and the keys dialog
    "video": shoot_video,
    "streams": shoot_streams,
    "custom-labels": shoot_custom_labels,
    "liveness": shoot_liveness,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated, of: {', '.join(GROUPS)} (default all)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photos = fetch(eval_data_dir(), progress=lambda _m: None)
    for name in args.only.split(","):
        GROUPS[name.strip()](args.out, photos)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

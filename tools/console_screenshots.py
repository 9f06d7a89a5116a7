"""Screenshots of the web console for docs/console/, taken from a real `openrek serve`.

    .venv/bin/python tools/console_screenshots.py [--out docs/console]

Starts a server on a free loopback port with a throwaway data folder, drives Debian's
Chromium through Playwright over the evaluation photos (tools/eval_data.py), and writes
one small PNG per page (256-colour palettes keep them light in the repository).
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.eval_data import eval_data_dir, fetch

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1200, "height": 800}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="openrek-shots-") as data:
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
    out.mkdir(parents=True, exist_ok=True)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    args = parser.parse_args()
    shoot(args.out, fetch(eval_data_dir(), progress=lambda _m: None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The console on a collection of 100,000 faces: how long the Collections page takes to
open the collection and show a page of its face grid, and to step through pages, in
Debian's Chromium, beside the same ListFaces calls made with boto3 (the bare API cost).

The faces are written straight into the server's store (random unit vectors: the
console shows metadata, never vectors); the collection itself is created through the
API, so its record is what any client makes. Run:

    .venv/bin/python bench/console_large_collection.py [--faces 100000] [--pages 10]

Results: bench/results/console_large_collection.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import numpy as np
from botocore.config import Config
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.served import running_server
from openrek.config import Settings
from openrek.storage.backends import open_face_store
from openrek.storage.base import FaceRecord

COLLECTION = "big-album"
RESULTS = Path(__file__).parent / "results" / "console_large_collection.md"
CHROMIUM = "/usr/bin/chromium"


def fill(data_dir: Path, faces: int, dimension: int) -> float:
    store = open_face_store(Settings.from_env(data_dir=data_dir).database)
    started = time.monotonic()
    rng = np.random.default_rng(0)
    try:
        for first in range(0, faces, 2000):
            count = min(2000, faces - first)
            vectors = rng.standard_normal((count, dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            image = str(uuid.uuid4())
            store.add_faces(
                COLLECTION,
                [
                    FaceRecord(
                        str(uuid.uuid4()), image, f"photo-{first + i}.jpg", (0.2, 0.3, 0.4, 0.1), 99.9, v
                    )
                    for i, v in enumerate(vectors)
                ],
            )
    finally:
        store.close()
    return time.monotonic() - started


def api_pages(url: str, pages: int) -> list[float]:
    client = boto3.client(
        "rekognition",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}),
    )
    times, token = [], None
    for _ in range(pages):
        started = time.monotonic()
        answer = client.list_faces(
            CollectionId=COLLECTION, MaxResults=24, **({"NextToken": token} if token else {})
        )
        times.append(time.monotonic() - started)
        token = answer["NextToken"]
    return times


def console_pages(url: str, pages: int) -> tuple[float, list[float]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        started = time.monotonic()
        page.goto(url + "/console#/collections")
        page.click(f"#collection-list li[data-collection-id='{COLLECTION}'] button")
        page.wait_for_selector(f"#collection-title:has-text('{COLLECTION}')")
        page.click("button[role=tab][data-view='Faces']")
        page.wait_for_selector("#face-grid .face-card")
        opened = time.monotonic() - started
        steps = []
        for number in range(2, pages + 1):
            started = time.monotonic()
            page.click("nav[aria-label='Face pages'] button:has-text('Next')")
            page.wait_for_selector(f"nav[aria-label='Face pages'] .page-number:has-text('Page {number}')")
            page.wait_for_selector("#face-grid .face-card")
            steps.append(time.monotonic() - started)
        cards = page.locator("#face-grid .face-card").count()
        browser.close()
    assert cards == 24, cards
    return opened, steps


def measure(faces: int, pages: int) -> tuple[float, list[float], float, list[float]]:
    """(fill seconds, boto3 ListFaces times, console open seconds, console Next times)."""
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        with running_server(data_dir, start_timeout=120) as server:
            client = boto3.client(
                "rekognition",
                endpoint_url=server.url,
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
            )
            client.create_collection(CollectionId=COLLECTION)
            model = client.describe_collection(CollectionId=COLLECTION)["FaceModelVersion"]
            dimension = 512 if model.startswith("2") else 128
            filled = fill(data_dir, faces, dimension)
            counted = client.describe_collection(CollectionId=COLLECTION)["FaceCount"]
            assert counted == faces, counted
            api = api_pages(server.url, pages)
            opened, steps = console_pages(server.url, pages)
    return filled, api, opened, steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    rows = []
    for faces in args.faces:
        filled, api, opened, steps = measure(faces, args.pages)
        api_ms, step_ms = statistics.median(api) * 1000, statistics.median(steps) * 1000
        rows.append(
            f"| {faces:,} | {filled:.0f} s | {api_ms:.1f} ms | {step_ms:.1f} ms ({step_ms / api_ms:.2f}x) | "
            f"{opened * 1000:.0f} ms |"
        )
    lines = [
        "# The console on a large collection",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs: `python bench/console_large_collection.py --faces "
        f"{' '.join(map(str, args.faces))} --pages {args.pages}`.",
        "",
        "Faces written straight into the embedded store (random unit vectors: the console shows "
        "metadata), the Collections page in Debian's Chromium (headless), 24 faces a page; medians "
        f"over {args.pages} pages.",
        "",
        "| faces | written in | boto3 ListFaces (24) | console Next page, until the grid shows it "
        "(vs boto3) | console load, open the collection, first page |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "Each page is one ListFaces call of 24 faces with the token of the page before: the "
        "console never reads the whole collection.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

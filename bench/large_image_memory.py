"""Server memory under concurrent requests of huge, tiny-on-the-wire PNGs.

A 10000 x 6000 PNG of mostly flat colour compresses to under 200 KB but declares 60
million pixels, the most the API accepts. N such requests are sent at once to a real
`openrek serve` (boto3, one thread per request) and the server's resident memory is
sampled every 50 ms: its idle RSS (models loaded and warmed), the peak under load, and
the RSS a few seconds after the last answer. Targets (issue 13): under 2 GiB peak
for 16 concurrent requests, and back within 20% of idle afterwards.

With `--baseline-src OTHER_CHECKOUT/src` the same load is sent, in the same run, to a
server running that other code (e.g. the commit before the memory work), so the two
are reported side by side.

    python bench/large_image_memory.py
    python bench/large_image_memory.py --baseline-src /tmp/openrek-before/src \\
        --baseline-models-dir ~/.cache/openrek/models
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image, ImageDraw
from served import running_server, tree_status_kib

OPERATIONS = ("DetectText", "DetectFaces", "DetectLabels")


def huge_png(width: int = 10_000, height: int = 6_000) -> bytes:
    """A flat page with large dark words and boxes: real content, tiny once compressed."""
    page = Image.new("RGB", (width, height), (245, 245, 240))
    draw = ImageDraw.Draw(page)
    for row in range(8):
        top = 300 + row * 700
        draw.rectangle((400, top, 400 + 2400, top + 420), fill=(30, 30, 30))
        draw.text((3200, top), f"OPENREK LINE {row}", fill=(20, 20, 20), font_size=360)
    out = io.BytesIO()
    page.save(out, "PNG", optimize=True)
    return out.getvalue()


def small_png() -> bytes:
    page = Image.new("RGB", (640, 480), (245, 245, 240))
    ImageDraw.Draw(page).text((40, 200), "WARM UP", fill=(0, 0, 0), font_size=60)
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()


def call(client, operation: str, image: bytes) -> str:  # type: ignore[no-untyped-def]
    method = {
        "DetectText": client.detect_text,
        "DetectFaces": client.detect_faces,
        "DetectLabels": client.detect_labels,
    }[operation]
    try:
        method(Image={"Bytes": image})
        return "ok"
    except ClientError as error:
        return str(error.response["Error"]["Code"])


@dataclass
class Load:
    operation: str
    idle_mib: float
    peak_mib: float = 0.0
    after_mib: float = 0.0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


def rss_mib(pid: int) -> float:
    return float(tree_status_kib(pid, "VmRSS") / 1024)  # served is imported as a script sibling: untyped here


def run_load(url: str, pid: int, operation: str, image: bytes, requests: int, settle: float) -> Load:
    clients = [
        boto3.client(
            "rekognition",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(read_timeout=600, retries={"max_attempts": 1}),
        )
        for _ in range(requests)
    ]
    load = Load(operation, idle_mib=rss_mib(pid))
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            load.peak_mib = max(load.peak_mib, rss_mib(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(requests) as pool:
        outcomes = list(pool.map(lambda c: call(c, operation, image), clients))
    load.seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    time.sleep(settle)
    load.after_mib = rss_mib(pid)
    for outcome in outcomes:
        load.outcomes[outcome] = load.outcomes.get(outcome, 0) + 1
    return load


def measure(
    name: str, command: list[str] | None, env: dict[str, str], args: argparse.Namespace, image: bytes
) -> list[Load]:
    loads = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(Path(tmp) / "data", 180, command=command, env=env) as server,
    ):
        client = boto3.client(
            "rekognition",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        warm = small_png()
        # Every analyser loaded, and every worker thread warmed (LiteRT keeps an
        # interpreter per thread), before idle is read.
        with ThreadPoolExecutor(args.requests) as pool:
            for operation in args.operations:
                list(pool.map(lambda _i, op=operation: call(client, op, warm), range(args.requests)))
        time.sleep(args.settle)
        for operation in args.operations:
            load = run_load(server.url, server.process.pid, operation, image, args.requests, args.settle)
            print(
                f"{name:9} {operation:12} idle {load.idle_mib:6.0f} MiB  peak {load.peak_mib:6.0f}  "
                f"after {load.after_mib:6.0f}  {load.seconds:5.1f} s  {load.outcomes}",
                flush=True,
            )
            loads.append(load)
    return loads


def table(name: str, loads: list[Load]) -> list[str]:
    rows = []
    for load in loads:
        outcomes = ", ".join(f"{count} {code}" for code, count in sorted(load.outcomes.items()))
        rows.append(
            f"| {name} | {load.operation} | {load.idle_mib:.0f} | {load.peak_mib:.0f} | "
            f"{load.peak_mib / load.idle_mib:.2f} | {load.after_mib:.0f} | "
            f"{load.after_mib / load.idle_mib:.2f} | {load.seconds:.1f} | {outcomes} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--operations", nargs="+", default=list(OPERATIONS), choices=OPERATIONS)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before reading idle/after RSS")
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src/ to run side by side")
    parser.add_argument("--baseline-models-dir", type=Path, help="models for the baseline (its own pins)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "large_image_memory.md"
    )
    args = parser.parse_args()

    image = huge_png()
    print(
        f"image: 10000x6000 PNG, {len(image) / 1024:.0f} KB; {args.requests} concurrent requests", flush=True
    )
    results = [("openrek", measure("openrek", None, dict(os.environ), args, image))]
    if args.baseline_src:
        env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
        if args.baseline_models_dir:
            env["OPENREK_MODELS_DIR"] = str(args.baseline_models_dir.expanduser())
        results.append(("baseline", measure("baseline", [sys.executable, "-m", "openrek"], env, args, image)))

    lines = [
        "# Server memory under concurrent huge PNGs (`bench/large_image_memory.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores. "
        f"One 10000x6000 PNG of {len(image) / 1024:.0f} KB sent {args.requests} times at once per "
        f"operation to `openrek serve` (default settings); RSS of the server process sampled every "
        f"50 ms; idle = models loaded and every worker warmed, after = {args.settle:.0f} s after the last answer.",
        "",
        "| server | operation | idle MiB | peak MiB | peak/idle | after MiB | after/idle | wall s | answers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, loads in results:
        lines += table(name, loads)
    if args.baseline_src:
        lines += ["", f"baseline: the code in `{args.baseline_src}`, same machine, same run."]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

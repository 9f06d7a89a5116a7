"""IndexFaces throughput, side by side with the `face_recognition` library.

Both systems take every real photo in `.cache/eval-data` (fetched by
`python tools/eval_data.py`) and turn each face into a stored identity vector:
- openrek: `Client.index_faces` into a fresh collection (detect, mesh, refine the
  five points, SFace embedding, SQLite commit with fsync), DEFAULT attributes;
- the peer: `face_recognition.face_locations` (HOG) + `face_encodings` (dlib
  ResNet), vectors kept in a Python list (no storage at all).
Photos are interleaved, one warm-up pass each, then three timed passes.

Run: python bench/index_faces.py   (writes bench/results/index_faces.md)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

from openrek import Client
from tools.eval_data import eval_data_dir, fetch

RESULTS = REPO / "bench" / "results" / "index_faces.md"
PASSES = 3


def main() -> None:
    import face_recognition

    root = fetch(eval_data_dir(), progress=lambda _m: None)
    photos = sorted(p for p in root.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
    data = {p: p.read_bytes() for p in photos}
    client = Client(data_dir=tempfile.mkdtemp(prefix="openrek-index-"))
    client.create_collection(CollectionId="bench")
    stored: list[np.ndarray] = []

    def openrek(photo: Path) -> int:
        result = client.index_faces(CollectionId="bench", Image={"Bytes": data[photo]}, QualityFilter="NONE")
        return len(result["FaceRecords"])

    def peer(photo: Path) -> int:
        with Image.open(photo) as image:
            pixels = np.asarray(image.convert("RGB"))
        vectors = face_recognition.face_encodings(pixels, face_recognition.face_locations(pixels))
        stored.extend(vectors)
        return len(vectors)

    systems = {"openrek IndexFaces (in-process)": openrek, "face_recognition locations + encodings": peer}
    seconds: dict[str, list[float]] = {name: [] for name in systems}
    faces = {name: 0 for name in systems}
    for photo in photos:  # warm-up
        for run in systems.values():
            run(photo)
    for _ in range(PASSES):
        for photo in photos:
            for name, run in systems.items():
                start = time.perf_counter()
                faces[name] += run(photo)
                seconds[name].append(time.perf_counter() - start)
    lines = [
        "# IndexFaces throughput: openrek vs face_recognition",
        "",
        f"{len(photos)} real photos, {PASSES} timed passes after a warm-up, sequential, 2 CPU cores.",
        "",
        "| system | faces / s | images / s | p50 ms per image | faces per pass |",
        "|---|---:|---:|---:|---:|",
    ]
    rate = {}
    for name in systems:
        total = sum(seconds[name])
        rate[name] = faces[name] / total
        lines.append(
            f"| {name} | {rate[name]:.2f} | {len(seconds[name]) / total:.2f} | "
            f"{1000 * statistics.median(seconds[name]):.0f} | {faces[name] // PASSES} |"
        )
    mine, theirs = rate["openrek IndexFaces (in-process)"], rate["face_recognition locations + encodings"]
    lines += ["", f"faces per second, openrek / peer: {mine / theirs:.2f}x"]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

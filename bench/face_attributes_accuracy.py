"""Accuracy of DetectFaces' model-backed attributes against hand labels.

Runs `openrek.Client.detect_faces(Attributes=["ALL"])` on every photo labelled in
tests/data/face_labels.json, matches each labelled face to a detected one at
IoU >= 0.5, and compares Gender, AgeRange, Smile, EyesOpen and MouthOpen with the
labels (null labels are left out). Ages in the labels are a person's estimate from
the photo, so AgeRange is scored by how far the label falls outside the range.

Run: python bench/face_attributes_accuracy.py   (writes bench/results/face_attributes.md)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for `tools`, when run as `python bench/...`

from openrek import Client
from tools.eval_data import eval_data_dir, fetch
from tools.face_labels import iou

LABELS = REPO / "tests" / "data" / "face_labels.json"
RESULTS = REPO / "bench" / "results" / "face_attributes.md"


def main() -> None:
    root = fetch(eval_data_dir(), progress=lambda _m: None)
    labels = json.loads(LABELS.read_text())
    client = Client(data_dir=tempfile.mkdtemp(prefix="openrek-attr-"))
    binary = {"Smile": "smile", "EyesOpen": "eyes_open", "MouthOpen": "mouth_open"}
    tallies: dict[str, list[int]] = {k: [0, 0] for k in [*binary, "Gender"]}  # right, total
    age_inside, age_total, age_miss = 0, 0, []
    from PIL import Image

    for name, faces in labels.items():
        if not faces:
            continue
        photo = root / name
        width, height = Image.open(photo).size
        detected = client.detect_faces(Image={"Bytes": photo.read_bytes()}, Attributes=["ALL"])["FaceDetails"]
        boxes = []
        for face in detected:
            box = face["BoundingBox"]
            boxes.append(
                [
                    box["Left"] * width,
                    box["Top"] * height,
                    (box["Left"] + box["Width"]) * width,
                    (box["Top"] + box["Height"]) * height,
                ]
            )
        for label in faces:
            scores = [iou(label["box"], b) for b in boxes]
            if not scores or max(scores) < 0.5:
                continue
            face = detected[scores.index(max(scores))]
            for field, key in binary.items():
                if label.get(key) is not None:
                    tallies[field][0] += face[field]["Value"] == label[key]
                    tallies[field][1] += 1
            if label.get("gender"):
                tallies["Gender"][0] += face["Gender"]["Value"] == label["gender"]
                tallies["Gender"][1] += 1
            if label.get("age_approx") is not None:
                low, high, age = face["AgeRange"]["Low"], face["AgeRange"]["High"], label["age_approx"]
                age_total += 1
                age_inside += low <= age <= high
                age_miss.append(max(0, low - age, age - high))
    lines = [
        "# DetectFaces attributes against hand labels",
        "",
        f"Labelled faces: tests/data/face_labels.json; photos from `.cache/eval-data` ({len(labels)} photos).",
        "",
        "| attribute | faces | correct | accuracy |",
        "|---|---:|---:|---:|",
    ]
    for field, (right, total) in tallies.items():
        lines.append(f"| {field} | {total} | {right} | {100 * right / max(total, 1):.1f}% |")
    age_miss.sort()
    median_miss = age_miss[len(age_miss) // 2] if age_miss else 0
    lines += [
        f"| AgeRange contains the labelled age | {age_total} | {age_inside} | {100 * age_inside / max(age_total, 1):.1f}% |",
        "",
        f"AgeRange misses: median {median_miss} years outside the range, worst {max(age_miss, default=0)}.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    # Keep the section bench/face_attributes_wide.py writes below this one.
    kept = RESULTS.read_text() if RESULTS.exists() else ""
    marker = "<!-- face_attributes_wide:start -->"
    tail = "\n" + kept[kept.index(marker) :] if marker in kept else ""
    RESULTS.write_text("\n".join(lines) + "\n" + tail)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

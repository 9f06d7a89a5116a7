"""Raw beard and mustache measurements (chin_dark, lip_dark) of the wider set's labelled
faces, to see whether a recalibrated curve could separate them (issue 15 item 6).

Run: python bench/appearance_measurements_wide.py   (prints split, beard, mustache,
chin_dark, lip_dark, photo per face; YuNet's five points at the product's 640 scale)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from appearance_accuracy import detect, detector_path, load_rgb

from openrek.inference.faces import appearance
from tools.eval_data import eval_data_dir, fetch
from tools.face_labels import iou


def main() -> None:
    root = fetch(eval_data_dir(), progress=lambda _m: None)
    model = detector_path()
    data = json.loads((REPO / "bench" / "data" / "face_attributes_wide.json").read_text())
    for photo, labels in data.items():
        image = load_rgb(root / photo)
        found = detect(model, image, 640)
        for label in labels:
            if label["beard"] is None and label["mustache"] is None:
                continue
            scores = [iou(label["box"], list(box)) for box, _points in found]
            if not scores or max(scores) < 0.5:
                continue
            m = appearance.measure(image, found[scores.index(max(scores))][1])
            print(
                label["split"],
                int(bool(label["beard"])),
                int(bool(label["mustache"])),
                round(m.chin_dark, 3),
                round(m.lip_dark, 3),
                photo,
            )


if __name__ == "__main__":
    main()

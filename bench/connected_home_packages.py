"""Could ConnectedHome's PACKAGE come from the ImageNet classifier? What can be measured.

COCO (NanoDet) has no package class. The labeler's EfficientNet-Lite0 knows ImageNet
classes near one: carton, crate, packet, envelope, mailbag, chest, hamper. None of the
eval photos (`.cache/eval-data/`, fetched by `python tools/eval_data.py`) shows a
package that we know of, so recall cannot be measured and PACKAGE is left undetected
(docs/streams.md). What the photos do measure is the other side: how much of the
whole-photo probability those classes take on photos with no package, i.e. how often a
threshold would fire falsely.

Run: python bench/connected_home_packages.py   (results: bench/results/connected_home_packages.md)
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from openrek.config import Settings
from openrek.inference.labels.classifier import TAXONOMY, build_image_classifier
from openrek.models.store import ModelStore
from tools.eval_data import eval_data_dir, fetch

PACKAGE_LIKE = ("carton", "crate", "packet", "envelope", "mailbag", "chest", "hamper")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


def main() -> None:
    settings = Settings.from_env()
    store = ModelStore(settings.models_dir)
    classifier = build_image_classifier(store, settings.runtime)
    taxonomy = json.loads(store.path(TAXONOMY).read_text())
    indices = {
        lemma: index
        for index, wnid in enumerate(taxonomy["classes"])
        for lemma in taxonomy["synsets"][wnid]["lemmas"]
        if lemma in PACKAGE_LIKE
    }
    root = fetch(eval_data_dir(), progress=lambda _m: None)
    photos = sorted(p for p in root.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    masses: list[tuple[float, str, str]] = []
    for photo in photos:
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        probabilities = classifier.probabilities(rgb)
        best = max(indices, key=lambda lemma: float(probabilities[indices[lemma]]))
        total = float(sum(probabilities[i] for i in indices.values()))
        masses.append((total, best, str(photo.relative_to(root))))
    masses.sort(reverse=True)
    totals = np.array([m[0] for m in masses])
    lines = [
        "# ConnectedHome PACKAGE: package-like ImageNet classes on photos without a package",
        "",
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, `python bench/connected_home_packages.py`.",
        f"Classes summed: {', '.join(sorted(indices))}. {len(masses)} eval photos; none is known to show a",
        "package (tests/data/label_truth.json describes 39; the rest are faces, masks and scene text).",
        "",
        "| share of photos whose package-like mass reaches | 0.05 | 0.2 | 0.5 |",
        "|---|---|---|---|",
        "| | " + " | ".join(f"{np.mean(totals >= t):.0%}" for t in (0.05, 0.2, 0.5)) + " |",
        "",
        "Highest five:",
        "",
        "| photo | mass | top class |",
        "|---|---|---|",
        *(f"| {name} | {total:.3f} | {best} |" for total, best, name in masses[:5]),
        "",
        "Recall is not measured (no package photo in the eval data), so PACKAGE stays",
        "undetected rather than thresholded on false positives alone.",
    ]
    out = Path(__file__).parent / "results" / "connected_home_packages.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

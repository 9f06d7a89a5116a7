"""Why so few labels per photo: reads the tuning answers that tools/fit_labels.py saved
(.cache/label_fit_answers.json: raw scores and out-of-fold calibrated confidences) and
prints, per tuning photo, how many labels come back at 55, how many the truth holds
(labels + also), and which right labels the models did score but the calibration put
under 55. Tuning part only; run tools/fit_labels.py first.

Run: python tools/label_cuts.py [--raw-at 0.3]
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANSWERS = REPO / ".cache" / "label_fit_answers.json"
SET = REPO / "bench" / "data" / "label_photos.json"


def main() -> None:
    raw_at = float(sys.argv[sys.argv.index("--raw-at") + 1]) if "--raw-at" in sys.argv else 0.3
    saved = json.loads(ANSWERS.read_text())
    raw, calibrated = saved["raw"], saved["out_of_fold"]
    photos = json.loads(SET.read_text())["photos"]
    returned, truth_sizes, wanted_sizes, right_at_55, cut_counts = [], [], [], [], []
    cut_labels: Counter[str] = Counter()
    unscored: Counter[str] = Counter()
    for name in sorted(calibrated):
        photo = photos[name]
        truth = set(photo["labels"]) | set(photo["also"])
        got = {label for label, c in calibrated[name].items() if c >= 55.0}
        cut = {
            label
            for label, score in raw[name].items()
            if label in truth and score >= raw_at and calibrated[name].get(label, 0.0) < 55.0
        }
        returned.append(len(got))
        truth_sizes.append(len(truth))
        wanted_sizes.append(len(photo["labels"]))
        right_at_55.append(len(got & truth))
        cut_counts.append(len(cut))
        cut_labels.update(cut)
        unscored.update(set(photo["labels"]) - {label for label, s in raw[name].items() if s >= raw_at})
        print(
            f"{name}: returned {len(got)} ({len(got & truth)} right), truth {len(truth)} "
            f"({len(photo['labels'])} wanted), cut {len(cut)}: {', '.join(sorted(cut))}"
        )
    med = statistics.median
    print(
        f"\n{len(returned)} tuning photos, out of fold, MinConfidence 55: median returned {med(returned)}, "
        f"median right {med(right_at_55)}, median truth {med(truth_sizes)} (wanted {med(wanted_sizes)}), "
        f"median right labels cut by calibration (raw >= {raw_at}) {med(cut_counts)}; "
        f"if none were cut, median {med([r + c for r, c in zip(returned, cut_counts, strict=True)])}"
    )
    print("right labels scored but cut:", ", ".join(f"{k} {v}" for k, v in cut_labels.most_common(30)))
    print(
        f"wanted labels never scored >= {raw_at}:", ", ".join(f"{k} {v}" for k, v in unscored.most_common(30))
    )


if __name__ == "__main__":
    main()

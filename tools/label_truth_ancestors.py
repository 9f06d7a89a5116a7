"""Complete the `also` lists of bench/data/label_photos.json with ancestors.

Rekognition returns every ancestor of a label as a label of its own (Golden Retriever
brings Dog, Canine, Mammal, Animal and Pet), so an ancestor of anything a photo shows
is true of the photo and returning it must not count as an error. The rule is fixed
and the same for every photo, tuning and held-out alike: every ancestor (openrek's
taxonomy: vocabulary.json over WordNet) of every label in `labels` or `also` that is
not already listed joins `also`. It reads the truth and the taxonomy only, never an
answer of the labeler.

Run: python tools/label_truth_ancestors.py   (idempotent; rewrites the file in place)
"""

from __future__ import annotations

import json
from pathlib import Path

from openrek.config import Settings
from openrek.inference.labels.taxonomy import Taxonomy
from openrek.models.store import ModelStore

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "bench" / "data" / "label_photos.json"
RULE = (
    " Every ancestor (openrek's taxonomy) of a label in 'labels' or 'also' is in 'also' too"
    " (tools/label_truth_ancestors.py, round 3), as Rekognition returns ancestors as labels."
)


def complete(photos: dict[str, dict[str, list[str]]], ancestors: dict[str, tuple[str, ...]]) -> int:
    """Adds the missing ancestors in place; returns how many were added."""
    added = 0
    for photo in photos.values():
        shown = [*photo["labels"], *photo["also"]]
        listed = set(shown)
        for label in shown:
            for ancestor in ancestors.get(label, ()):
                if ancestor not in listed:
                    photo["also"].append(ancestor)
                    listed.add(ancestor)
                    added += 1
    return added


def main() -> None:
    settings = Settings.from_env()
    taxonomy = Taxonomy.load(ModelStore(settings.models_dir).path("imagenet-taxonomy"))
    data = json.loads(SET.read_text())
    added = complete(data["photos"], taxonomy.ancestors)
    if RULE not in data["about"]:
        data["about"] += RULE
    SET.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"{added} ancestors added to 'also'")


if __name__ == "__main__":
    main()

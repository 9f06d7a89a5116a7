"""The hand-labelled classification set (bench/data/classification_photos.tsv) is
read, not downloaded, here: its split must stay fixed and clean, since the bench's
held-out numbers rest on it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tools.eval_data import GCOMPRIS_RESOURCES, classification_set

FREE_LICENCES = {
    "GPL-3",
    "GPL-3+",
    "public-domain",
    "CC0-1.0",
    "CC-BY-1.0",
    "CC-BY-2.0",
    "CC-BY-3.0",
    "CC-BY-SA-2.0",
    "CC-BY-SA-2.5",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "GFDL-NIV-1.2",  # GNU FDL 1.2 without invariant sections: free, copyleft
}


def test_the_set_has_a_fixed_held_out_part_and_enough_training_photos(tmp_path: Path) -> None:
    photos = classification_set(tmp_path)
    counts = Counter((photo.label, photo.held_out) for photo in photos)
    assert counts == {
        ("animal", False): 60,
        ("animal", True): 25,
        ("landmark", False): 50,
        ("landmark", True): 22,
        ("tool", False): 25,
        ("tool", True): 13,
    }
    # Each photo once (by content and by path), each from a pinned resource file.
    assert len({photo.sha256 for photo in photos}) == len(photos)
    assert len({photo.path for photo in photos}) == len(photos)
    assert all(len(photo.sha256) == 64 and int(photo.sha256, 16) >= 0 for photo in photos)
    assert {photo.resource for photo in photos} == set(GCOMPRIS_RESOURCES)
    assert all(photo.path.is_relative_to(tmp_path / "gcompris") for photo in photos)
    assert {photo.licence for photo in photos} <= FREE_LICENCES

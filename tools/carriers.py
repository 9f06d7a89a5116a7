"""Where evaluation files come from: a registry package, its version, and the folder
inside it that holds them. Carriers that more than one photo list reads are here."""

from __future__ import annotations

from openrek.models.registry import Registry

# A package file's carrier: registry, package, version, and the folder inside it.
Carrier = tuple[Registry, str, str, str]

# OpenCV's documentation package (BSD-3-Clause): sample photos and scene-text photos.
OPENCV_DOC_DATA: Carrier = (
    "debian",
    "opencv-doc",
    "4.6.0+dfsg-12",
    "usr/share/doc/opencv-doc/examples/data/",
)
OPENCV_DOC_TEXT: Carrier = (
    "debian",
    "opencv-doc",
    "4.6.0+dfsg-12",
    "usr/share/doc/opencv-doc/examples/text/",
)

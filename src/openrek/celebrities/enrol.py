"""A photo of a celebrity -> the face vectors the gallery keeps (the photo itself is not kept)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from openrek.celebrities.gallery import Enrolment, GalleryError
from openrek.imaging.decode import decode_image
from openrek.inference.faces.analyzer import FaceAnalyzer, Need
from openrek.inference.faces.embedder import FaceEmbedder
from openrek.operations.quality_filter import rejection_reasons

# The bar IndexFaces applies by default (QualityFilter AUTO): a face too small, blurred
# or turned away to be indexed in a collection is no better as a gallery face.
ENROLMENT_QUALITY = "AUTO"


@dataclass(frozen=True)
class EnrolledPhoto:
    enrolment: Enrolment
    faces_found: int  # the largest is enrolled; more than one is worth a warning


def enrol_photo(
    analyzer: FaceAnalyzer, embedders: Mapping[str, FaceEmbedder], photo: bytes, label: str
) -> EnrolledPhoto:
    """The largest face of `photo`, embedded by every installed model.

    Raises GalleryError when the photo has no face or its largest face is not good
    enough to enrol; the image door's own errors (not an image, too small) pass through."""
    image = decode_image(photo)
    faces = analyzer.analyze(image.rgb, frozenset({Need.ALIGNMENT}), max_faces=100)
    if not faces:
        raise GalleryError(f"{label}: no face found")
    largest = faces[0]
    reasons = rejection_reasons(largest, ENROLMENT_QUALITY)
    if reasons:
        raise GalleryError(f"{label}: the largest face is not good enough to enrol ({', '.join(reasons)})")
    vectors = {version: embedder.embed(image.rgb, largest.points) for version, embedder in embedders.items()}
    return EnrolledPhoto(Enrolment(hashlib.sha256(photo).hexdigest(), vectors), len(faces))

"""DetectFaces."""

from __future__ import annotations

from typing import Any

from openrek.operations.face_detail import face_detail, needs_for, requested_attributes
from openrek.services import Services

MAX_DETECTED_FACES = 100


def detect_faces(params: dict[str, Any], services: Services) -> dict[str, Any]:
    image = services.load_image(params["Image"])
    attributes = requested_attributes(params.get("Attributes"))
    # A photo stored sideways or upside down is searched turned when nothing is upright.
    faces = services.faces.analyze(image.rgb, needs_for(attributes), MAX_DETECTED_FACES, turned=True)
    return {"FaceDetails": [face_detail(f, image.width, image.height, attributes) for f in faces]}


HANDLERS = {"DetectFaces": detect_faces}

"""DetectProtectiveEquipment."""

from __future__ import annotations

from typing import Any

import numpy as np

from openrek.imaging.limits import ImageLimits
from openrek.inference.ppe.findings import BodyPart, Equipment, Person
from openrek.operations.face_detail import ratio_box
from openrek.operations.ppe_summary import reported_confidence, summarize
from openrek.protocol.dispatch import Handler
from openrek.services import Services

# Rekognition's limits for this operation differ from the others': 4 MB of image
# bytes, 4096 pixels a side, and images down to 64 pixels a side are accepted.
PPE_LIMITS = ImageLimits(max_bytes=4 * 1024 * 1024, max_side=4096, min_side=64)


def _box(box: np.ndarray, width: int, height: int) -> dict[str, float]:
    return ratio_box(box, width, height)


def _equipment(item: Equipment, width: int, height: int) -> dict[str, Any]:
    return {
        "BoundingBox": _box(item.box, width, height),
        "Confidence": reported_confidence(item.confidence),
        "Type": item.kind,
        "CoversBodyPart": {"Confidence": reported_confidence(item.covers_confidence), "Value": item.covers},
    }


def _body_part(part: BodyPart, width: int, height: int) -> dict[str, Any]:
    return {
        "Name": part.name,
        "Confidence": reported_confidence(part.confidence),
        "EquipmentDetections": [_equipment(e, width, height) for e in part.equipment],
    }


def _person(person_id: int, person: Person, width: int, height: int) -> dict[str, Any]:
    return {
        "BodyParts": [_body_part(p, width, height) for p in person.body_parts],
        "BoundingBox": _box(person.box, width, height),
        "Confidence": reported_confidence(person.confidence),
        "Id": person_id,
    }


def detect_protective_equipment(params: dict[str, Any], services: Services) -> dict[str, Any]:
    image = services.load_image(params["Image"], PPE_LIMITS)
    inspector = services.ppe_inspector
    persons = inspector.inspect(image.rgb)
    response: dict[str, Any] = {
        "ProtectiveEquipmentModelVersion": inspector.model_version,
        "Persons": [_person(i, p, image.width, image.height) for i, p in enumerate(persons)],
    }
    wanted = params.get("SummarizationAttributes")
    if wanted is not None:
        response["Summary"] = summarize(
            persons, wanted["RequiredEquipmentTypes"], wanted["MinConfidence"], inspector.determinable
        )
    return response


HANDLERS: dict[str, Handler[Services]] = {"DetectProtectiveEquipment": detect_protective_equipment}

"""DetectModerationLabels."""

from __future__ import annotations

from typing import Any

import numpy as np

from openrek.inference.moderation.taxonomy import (
    MODEL_VERSION,
    Evidence,
    content_type_scores,
    label_scores,
)
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import ResourceNotFoundException
from openrek.services import Services

DEFAULT_MIN_CONFIDENCE = 50.0


def as_percent(score: float) -> float:
    """A probability as Rekognition's 0-100 confidence (float32, like AWS's)."""
    return float(np.float32(min(max(score, 0.0), 1.0) * 100))


def moderation_labels(evidence: Evidence, min_confidence: float) -> list[dict[str, object]]:
    """ModerationLabels at or above `min_confidence` (0-100), most confident first,
    deeper labels before their ancestors when confidences tie."""
    found = [(as_percent(label.score), label) for label in label_scores(evidence)]
    kept = sorted(
        ((confidence, label) for confidence, label in found if confidence >= min_confidence),
        key=lambda item: (-item[0], -item[1].level, item[1].name),
    )
    return [
        {
            "Confidence": confidence,
            "Name": label.name,
            "ParentName": label.parent,
            "TaxonomyLevel": label.level,
        }
        for confidence, label in kept
    ]


def content_types(evidence: Evidence, min_confidence: float) -> list[dict[str, object]]:
    found = [(as_percent(content.score), content.name) for content in content_type_scores(evidence)]
    return [{"Confidence": c, "Name": name} for c, name in found if c >= min_confidence]


def detect_moderation_labels(params: dict[str, Any], services: Services) -> dict[str, Any]:
    # Both name resources that cannot exist here; answering without them would hand
    # back unreviewed or un-adapted results as if the request had been honoured.
    if "ProjectVersion" in params:
        raise ResourceNotFoundException(
            f"The adapter {params['ProjectVersion']} was not found: openrek runs the base "
            "moderation model only; custom moderation adapters are not supported"
        )
    if "HumanLoopConfig" in params:
        flow = params["HumanLoopConfig"].get("FlowDefinitionArn", "")
        raise ResourceNotFoundException(
            f"The flow definition {flow} was not found: openrek has no Amazon Augmented AI "
            "human review; call without HumanLoopConfig"
        )
    image = services.load_image(params["Image"])
    min_confidence = float(params.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))
    evidence = services.moderator.evidence(image.rgb)
    return {
        "ModerationLabels": moderation_labels(evidence, min_confidence),
        "ModerationModelVersion": MODEL_VERSION,
        "ContentTypes": content_types(evidence, min_confidence),
    }


HANDLERS: dict[str, Handler[Services]] = {"DetectModerationLabels": detect_moderation_labels}

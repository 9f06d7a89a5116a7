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
    # A flow definition cannot exist here; answering without it would hand back
    # unreviewed results as if the request had been honoured.
    if "HumanLoopConfig" in params:
        flow = params["HumanLoopConfig"].get("FlowDefinitionArn", "")
        raise ResourceNotFoundException(
            f"The flow definition {flow} was not found: openrek has no Amazon Augmented AI "
            "human review; call without HumanLoopConfig"
        )
    adapter = None
    if "ProjectVersion" in params:
        from openrek.operations.moderation_adapters import adapter_or_error

        adapter = adapter_or_error(services, params["ProjectVersion"])  # before the image is read
    image = services.load_image(params["Image"])
    min_confidence = float(params.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))
    evidence = services.moderator.evidence(image.rgb)
    if adapter is None:
        labels = moderation_labels(evidence, min_confidence)
    else:
        from openrek.custom_labels.adapters import adapted_labels

        features = services.custom_labels.backbone.features([image.rgb])[0]
        labels = adapted_labels(adapter, evidence, features, min_confidence)
    response: dict[str, Any] = {
        "ModerationLabels": labels,
        "ModerationModelVersion": MODEL_VERSION,
        "ContentTypes": content_types(evidence, min_confidence),
    }
    if adapter is not None:
        response["ProjectVersion"] = params["ProjectVersion"]  # AWS echoes the adapter it used
    return response


HANDLERS: dict[str, Handler[Services]] = {"DetectModerationLabels": detect_moderation_labels}

"""DetectModerationLabels."""

from __future__ import annotations

from typing import Any

from openrek.inference.moderation.taxonomy import MODEL_VERSION, content_types, moderation_labels
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import ResourceNotFoundException

DEFAULT_MIN_CONFIDENCE = 50.0


def detect_moderation_labels(params: dict[str, Any], services: Any) -> dict[str, Any]:
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
    evidence = services.analyzer("moderation").evidence(image.rgb)
    return {
        "ModerationLabels": moderation_labels(evidence, min_confidence),
        "ModerationModelVersion": MODEL_VERSION,
        "ContentTypes": content_types(evidence, min_confidence),
    }


HANDLERS: dict[str, Handler] = {"DetectModerationLabels": detect_moderation_labels}

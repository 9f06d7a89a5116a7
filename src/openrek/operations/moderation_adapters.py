"""Which adapter a DetectModerationLabels request names, or the AWS error saying why
there is none to use."""

from __future__ import annotations

from openrek.custom_labels.adapters import AdapterHead
from openrek.custom_labels.records import CONTENT_MODERATION, TRAINING_COMPLETED
from openrek.operations.custom_labels_versions import version_or_404
from openrek.protocol.errors import InvalidParameterException, ResourceNotReadyException
from openrek.services import Services


def adapter_or_error(services: Services, arn: str) -> AdapterHead:
    project, version = version_or_404(services, arn)  # ResourceNotFoundException
    if project.feature != CONTENT_MODERATION:
        raise InvalidParameterException(
            f"{arn} is a Custom Labels model, not a content moderation adapter; use DetectCustomLabels"
        )
    if version.status != TRAINING_COMPLETED:
        # AWS: an adapter is used once TRAINING_COMPLETED, with no StartProjectVersion.
        raise ResourceNotReadyException(f"The adapter is {version.status}, not TRAINING_COMPLETED")
    return services.custom_labels.adapter(project, version)

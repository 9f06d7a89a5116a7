"""DetectLabels."""

from __future__ import annotations

from openrek.protocol.dispatch import Handler

# Empty until DetectLabels is implemented: the dispatcher then answers
# UnsupportedOperationException naming it.
HANDLERS: dict[str, Handler] = {}

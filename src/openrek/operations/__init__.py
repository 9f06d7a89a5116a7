"""Operation handlers: validated request + Services -> Rekognition response dict.

This is the only layer that knows both the models' results and AWS's shapes.
"""

from __future__ import annotations

from collections.abc import Mapping

from openrek.operations import faces
from openrek.protocol.dispatch import Handler

HANDLERS: Mapping[str, Handler] = {
    **faces.HANDLERS,
}

"""Operation handlers: validated request + Services -> Rekognition response dict.

This is the only layer that knows both the models' results and AWS's shapes.
"""

from __future__ import annotations

from collections.abc import Mapping

from openrek.operations import collection_faces, collections, compare_faces, faces, users
from openrek.protocol.dispatch import Handler

HANDLERS: Mapping[str, Handler] = {
    **faces.HANDLERS,
    **collections.HANDLERS,
    **collection_faces.HANDLERS,
    **compare_faces.HANDLERS,
    **users.HANDLERS,
}

"""How many frames a second each job type analyses by default.

Faces move and are cheap to find: 5 a second. Text stays on screen for seconds and
reading a frame costs about a second on 2 cores: 1 a second. OPENREK_VIDEO_FPS sets
one rate for every job type instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openrek.services import Services

DEFAULT_FRAMES_PER_SECOND = {
    "StartFaceDetection": 5.0,
    "StartFaceSearch": 5.0,
    "StartTextDetection": 1.0,
}


def frames_per_second(services: Services, api: str) -> float:
    configured = services.settings.video_frames_per_second
    return configured if configured is not None else DEFAULT_FRAMES_PER_SECOND[api]

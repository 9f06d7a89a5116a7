"""What a stored video's audio streams are, as GetSegmentDetection's AudioMetadata
states them: codec, duration, sample rate and channels of each stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import av.error

from openrek.video.decode import MP4_DEMUXER


def _duration_millis(stream: Any, container: Any) -> int:
    if stream.duration is not None and stream.time_base:
        return max(0, round(float(stream.duration * stream.time_base) * 1000))
    if container.duration is not None:
        return max(0, round(float(container.duration) / av.time_base * 1000))
    return 0


def audio_metadata(path: Path) -> list[dict[str, object]]:
    """One entry per audio stream (none for a silent video). Read with the same
    demuxer as the pictures; a file it cannot open has no audio to report."""
    try:
        container: Any = av.open(str(path), mode="r", format=MP4_DEMUXER)
    except (av.error.FFmpegError, OSError, ValueError):
        return []
    with container:
        found: list[dict[str, object]] = []
        for stream in container.streams.audio:
            context = stream.codec_context
            layout = getattr(context, "layout", None)
            found.append(
                {
                    "Codec": context.name,
                    "DurationMillis": _duration_millis(stream, container),
                    "SampleRate": int(context.sample_rate or 0),
                    "NumberOfChannels": int(layout.nb_channels if layout is not None else 0),
                }
            )
        return found

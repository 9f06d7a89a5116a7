"""`openrek video analyze clip.mp4 --annotate out.mp4`: the clip with what was found drawn on it.

Faces, the names of matched faces, tracked people with their Index, text lines and
labels' instances are drawn from the jobs' results (the same dicts Get* pages).
Results exist only on sampled frames; each is held on the frames after it until
the next sample of its feature is due, so boxes neither flicker nor linger.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from openrek.annotate import Mark, box_points, draw, text_marks
from openrek.video.decode import VideoMetadata, sample

# Every frame of the source: `sample` yields each frame at most once.
EVERY_FRAME = 1000.0


def _name(match: dict[str, Any]) -> str:
    face = match["Face"]
    return str(face.get("ExternalImageId") or face.get("UserId") or face["FaceId"][:8])


def marks_of(api: str, item: dict[str, Any], width: int, height: int) -> list[Mark]:
    """What to draw for one timestamped result of a Get* list."""
    if api == "StartFaceDetection":
        face = item["Face"]
        return [
            Mark("faces", box_points(face["BoundingBox"], width, height), f"Face {face['Confidence']:.0f}%")
        ]
    if api == "StartFaceSearch":
        person, best = item["Person"], item["FaceMatches"][0]
        caption = f"#{person['Index']} {_name(best)} {best['Similarity']:.0f}%"
        return [Mark("faces", box_points(person["BoundingBox"], width, height), caption)]
    if api == "StartCelebrityRecognition":
        celebrity = item["Celebrity"]
        caption = f"{celebrity['Name']} {celebrity['Confidence']:.0f}%"
        return [Mark("faces", box_points(celebrity["BoundingBox"], width, height), caption)]
    if api == "StartPersonTracking":
        person = item["Person"]
        if "BoundingBox" not in person:
            return []
        return [
            Mark("people", box_points(person["BoundingBox"], width, height), f"Person #{person['Index']}")
        ]
    if api == "StartTextDetection":
        return text_marks({"TextDetections": [item["TextDetection"]]}, width, height)
    if api == "StartLabelDetection":
        label = item["Label"]
        return [
            Mark("labels", box_points(instance["BoundingBox"], width, height), f"{label['Name']}")
            for instance in label.get("Instances", [])
        ]
    return []


# The list each job's results keep their timestamped items in.
ITEMS = {
    "StartFaceDetection": "Faces",
    "StartFaceSearch": "Persons",
    "StartPersonTracking": "Persons",
    "StartCelebrityRecognition": "Celebrities",
    "StartTextDetection": "TextDetections",
    "StartLabelDetection": "Labels",
}


class Timeline:
    """One feature's marks by sampled timestamp, each shown until the next sample is due."""

    def __init__(self, api: str, items: Iterable[dict[str, Any]], hold_millis: float, size: tuple[int, int]):
        by_time: dict[int, list[Mark]] = {}
        for item in items:
            by_time.setdefault(int(item["Timestamp"]), []).extend(marks_of(api, item, *size))
        self._times = sorted(by_time)
        self._marks = [by_time[t] for t in self._times]
        self._hold = hold_millis

    def at(self, millis: int) -> list[Mark]:
        found = bisect.bisect_right(self._times, millis) - 1
        if found < 0 or millis - self._times[found] >= self._hold:
            return []
        return self._marks[found]


def annotate_video(
    source: Path,
    out: Path,
    metadata: VideoMetadata,
    timelines: list[Timeline],
    progress: Callable[[float], None] | None = None,
) -> int:
    """Writes `source` with the timelines' marks drawn on it as H.264 in `out`; returns
    the number of frames written."""
    rate = Fraction(metadata.frame_rate).limit_denominator(1001) if metadata.frame_rate else Fraction(25)
    # H.264 in 4:2:0 wants even sides.
    width, height = metadata.frame_width // 2 * 2, metadata.frame_height // 2 * 2
    written = 0
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in sample(source, EVERY_FRAME):
            marks = [mark for timeline in timelines for mark in timeline.at(frame.timestamp_millis)]
            picture = Image.fromarray(frame.rgb[:height, :width])
            pixels = np.asarray(draw(picture, marks)) if marks else frame.rgb[:height, :width]
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            video_frame.pts = written
            video_frame.time_base = 1 / rate
            for packet in stream.encode(video_frame):
                container.mux(packet)
            written += 1
            if progress is not None and metadata.duration_millis:
                progress(min(1.0, frame.timestamp_millis / metadata.duration_millis))
        for packet in stream.encode():
            container.mux(packet)
    return written

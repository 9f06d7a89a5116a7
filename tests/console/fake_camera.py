"""Footage for Chromium's fake camera: `--use-file-for-fake-video-capture=FILE.y4m`
plays FILE from its first frame when a page opens the camera, at the file's frame
rate, looping at its end."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# With these, Chromium grants the camera without asking and plays the file as its picture.
FAKE_CAMERA_ARGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def write_y4m(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    """RGB frames (all one size, even sides) as an uncompressed y4m, 4:2:0."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{round(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())  # Y, then U, then V
    return path


def camera_args(y4m: Path) -> list[str]:
    return [*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={y4m}"]

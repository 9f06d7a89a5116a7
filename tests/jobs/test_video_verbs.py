"""AWS-CLI-shaped video verbs in-process: the Start* call's job runs before the command
exits, and the Get* verb reads it from the same data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from openrek.models.store import ModelStore
from tests.conftest import models_dir
from tests.video.clips import make_clip


def openrek(*args: str) -> dict[str, object]:
    env = {**os.environ, "OPENREK_MODELS_DIR": str(models_dir())}
    done = subprocess.run(
        [sys.executable, "-m", "openrek", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_start_and_get_label_detection(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    cat = np.asarray(ImageOps.pad(Image.open(photos / "skimage/chelsea.png").convert("RGB"), (320, 240)))
    data = tmp_path / "data"
    (data / "s3" / "pets").mkdir(parents=True)
    make_clip(data / "s3" / "pets" / "cat.mp4", [(cat, 10)], fps=10)
    started = openrek(
        "start-label-detection",
        "--video",
        "s3://pets/cat.mp4",
        "--min-confidence",
        "60",
        "--data-dir",
        str(data),
    )
    job_id = str(started["JobId"])
    got = openrek("get-label-detection", "--job-id", job_id, "--data-dir", str(data))
    assert got["JobStatus"] == "SUCCEEDED"
    labels = got["Labels"]
    assert isinstance(labels, list)
    assert "Cat" in {item["Label"]["Name"] for item in labels}
    assert all(item["Timestamp"] == 0 for item in labels)  # 1 s of video, one frame a second

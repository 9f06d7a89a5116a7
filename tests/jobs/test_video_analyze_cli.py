"""`openrek video analyze`: a local clip analysed in-process, results as JSON, an annotated copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps

from openrek import Client
from openrek.config import Settings
from openrek.models.store import ModelStore
from tests.conftest import models_dir
from tests.video.clips import make_clip, plain

FPS = 10


def frame_of(photo: Path) -> np.ndarray:
    return np.asarray(ImageOps.pad(Image.open(photo).convert("RGB"), (320, 240), color=(128, 128, 128)))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENREK_MODELS_DIR": str(models_dir())}
    return subprocess.run(
        [sys.executable, "-m", "openrek", "video", "analyze", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_faces_and_search_with_an_annotated_copy(models: ModelStore, photos: Path, tmp_path: Path) -> None:
    folder = photos / "face_recognition"
    # 1 s of Obama (not the indexed photo), then 1 s of an empty grey frame.
    clip = make_clip(
        tmp_path / "door.mp4",
        [(frame_of(folder / "obama2.jpg"), FPS), (plain((128, 128, 128)), FPS)],
        fps=FPS,
    )
    data = tmp_path / "data"
    with Client(settings=Settings(data_dir=data, models_dir=models_dir())) as client:
        client.create_collection(CollectionId="family")
        client.index_faces(
            CollectionId="family",
            Image={"Bytes": (folder / "obama.jpg").read_bytes()},
            ExternalImageId="obama",
        )
    out = tmp_path / "annotated.mp4"
    done = run_cli(
        str(clip),
        "--features",
        "faces,search",
        "--collection-id",
        "family",
        "--data-dir",
        str(data),
        "--annotate",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "door.analysis.json").read_text())
    assert report["VideoMetadata"]["DurationMillis"] == 2000
    face_stamps = [face["Timestamp"] for face in report["faces"]["Faces"]]
    assert face_stamps == [0, 200, 400, 600, 800]  # 5 a second, none on the empty second
    persons = report["search"]["Persons"]
    assert [p["Timestamp"] for p in persons] == face_stamps
    assert {p["FaceMatches"][0]["Face"]["ExternalImageId"] for p in persons} == {"obama"}
    assert "100.0%" in done.stderr  # the progress bar ran to the end

    with av.open(str(out)) as annotated, av.open(str(clip)) as original:
        drawn = [f.to_ndarray(format="rgb24") for f in annotated.decode(video=0)]
        plain_frames = [f.to_ndarray(format="rgb24") for f in original.decode(video=0)]
    assert len(drawn) == len(plain_frames) == 2 * FPS
    box = persons[0]["Person"]["BoundingBox"]
    left, top = round(box["Left"] * 320), round(box["Top"] * 240)
    right = round((box["Left"] + box["Width"]) * 320)
    # The box's top edge is drawn in the faces' green on the first second, not the second.
    edge = drawn[0][max(top, 1), left + 2 : right - 2].astype(int)
    assert np.mean(edge[:, 1] - edge[:, 0]) > 80
    assert np.abs(drawn[-1].astype(int) - plain_frames[-1].astype(int)).mean() < 3


def test_bad_input_is_a_one_line_error(models: ModelStore, tmp_path: Path) -> None:
    not_video = tmp_path / "notes.mp4"
    not_video.write_bytes(b"not a video at all" * 100)
    done = run_cli(str(not_video), "--features", "faces", cwd=tmp_path)
    assert done.returncode == 1 and "not a video" in done.stderr and "Traceback" not in done.stderr
    clip = make_clip(tmp_path / "c.mp4", [(plain((0, 0, 0)), 5)], fps=FPS)
    unknown = run_cli(str(clip), "--features", "faces,smells", cwd=tmp_path)
    assert unknown.returncode != 0 and "smells" in unknown.stderr
    no_collection = run_cli(str(clip), "--features", "search", cwd=tmp_path)
    assert no_collection.returncode != 0 and "--collection-id" in no_collection.stderr
    missing = run_cli(
        str(clip),
        "--features",
        "search",
        "--collection-id",
        "nobody",
        "--data-dir",
        str(tmp_path / "d"),
        cwd=tmp_path,
    )
    assert missing.returncode == 1 and "no collection nobody" in missing.stderr

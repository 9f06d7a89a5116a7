"""probe and sample on real clips made with PyAV: h264 in MP4 and MOV, and files that are not videos."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from openrek.video.decode import SampledFrame, VideoMetadata, VideoUnreadable, probe, sample
from tests.video.clips import BLACK, FPS, HEIGHT, RED, WIDTH, make_audio_only, make_clip, pattern, plain

# 0-1 s a picture, 1-2 s plain red, 2-3 s black.
SEGMENTS = [(pattern(), FPS), (plain(RED), FPS), (plain(BLACK), FPS)]


@pytest.fixture(scope="module", params=["mp4", "mov"])
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / f"clip.{request.param}", SEGMENTS)


def segment_of(frame: SampledFrame) -> int:
    return frame.frame_number // FPS


def assert_content(frame: SampledFrame) -> None:
    """The frame shows what its segment holds (H.264 is lossy: means within a few levels)."""
    assert frame.rgb.dtype == np.uint8 and frame.rgb.shape == (HEIGHT, WIDTH, 3)
    expected = SEGMENTS[segment_of(frame)][0].astype(np.float32)
    error = np.abs(frame.rgb.astype(np.float32) - expected).mean()
    assert error < 6, f"frame {frame.frame_number} differs from its segment by {error:.1f} levels"


def test_probe_reports_the_clip(clip: Path) -> None:
    metadata = probe(clip)
    assert metadata.codec == "h264"
    assert metadata.format == "QuickTime / MOV"  # AWS's word for MP4 and MOV alike
    assert (metadata.frame_width, metadata.frame_height) == (WIDTH, HEIGHT)
    assert metadata.frame_rate == pytest.approx(FPS)
    assert abs(metadata.duration_millis - 3000) <= 1000 / FPS
    assert metadata.color_range == "LIMITED"
    assert metadata.as_aws() == {
        "Codec": "h264",
        "DurationMillis": metadata.duration_millis,
        "Format": "QuickTime / MOV",
        "FrameRate": metadata.frame_rate,
        "FrameHeight": HEIGHT,
        "FrameWidth": WIDTH,
        "ColorRange": "LIMITED",
    }


@pytest.mark.parametrize("fps", [1, 2, 5])
def test_sample_yields_the_first_frame_at_each_instant(clip: Path, fps: int) -> None:
    frames = list(sample(clip, fps))
    # Instant k/fps s falls on or just before frame ceil(k * FPS / fps), shown at 40 ms a frame.
    expected = [-(-k * FPS // fps) for k in range(3 * fps)]
    assert [f.frame_number for f in frames] == expected
    assert [f.timestamp_millis for f in frames] == [n * 1000 // FPS for n in expected]
    for frame in frames:
        assert_content(frame)


def test_sample_slower_than_once_a_second(clip: Path) -> None:
    frames = list(sample(clip, 0.5))
    assert [(f.frame_number, f.timestamp_millis) for f in frames] == [(0, 0), (50, 2000)]
    assert frames[1].rgb.max() < 20  # the black segment


def test_full_range_video(tmp_path: Path) -> None:
    path = tmp_path / "full.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("h264", rate=30)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuvj420p"
        frame = av.VideoFrame.from_ndarray(pattern(), format="rgb24").reformat(format="yuvj420p")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    assert probe(path).color_range == "FULL"
    assert np.abs(next(sample(path, 1)).rgb.astype(np.float32) - pattern()).mean() < 6


def test_sample_faster_than_the_video_yields_each_frame_once(clip: Path) -> None:
    frames = list(sample(clip, 60))
    assert [f.frame_number for f in frames] == list(range(3 * FPS))
    assert [f.timestamp_millis for f in frames] == [n * 1000 // FPS for n in range(3 * FPS)]


def test_a_clip_with_sound(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "sound.mov", SEGMENTS, with_audio=True)
    assert probe(path).codec == "h264"
    frames = list(sample(path, 1))
    assert [(f.frame_number, f.timestamp_millis) for f in frames] == [(0, 0), (25, 1000), (50, 2000)]
    for frame in frames:
        assert_content(frame)


def test_sample_streams(clip: Path) -> None:
    """A generator: stopping early is fine and reads no further."""
    frames = sample(clip, 1)
    assert isinstance(frames, Generator)  # declared an Iterator; stopping it early is what is tested
    first = next(frames)
    assert first.frame_number == 0
    frames.close()


def test_sample_refuses_a_rate_that_is_not_positive(clip: Path) -> None:
    with pytest.raises(ValueError):
        next(sample(clip, 0))


def test_rotated_video_is_sampled_upright(tmp_path: Path) -> None:
    """Stored landscape with a 90° display rotation (as phones do): frames and sizes come upright."""
    path = make_clip(tmp_path / "rotated.mp4", [(pattern(), 5)], rotation=90)
    metadata = probe(path)
    assert (metadata.frame_width, metadata.frame_height) == (HEIGHT, WIDTH)
    rgb = next(sample(path, 1)).rgb
    assert rgb.shape == (WIDTH, HEIGHT, 3)
    # The blue block stored top-left shows bottom-left after a quarter turn counter-clockwise.
    assert rgb[-10:, :10, 2].mean() > 200 and rgb[:10, :10, 2].mean() < 50


def test_a_clip_from_a_photo(tmp_path: Path, photos: Path) -> None:
    photo = Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((WIDTH, HEIGHT))
    picture = np.asarray(photo)
    path = make_clip(tmp_path / "photo.mp4", [(picture, FPS), (plain(BLACK), FPS)])
    frames = list(sample(path, 2))
    assert [f.frame_number for f in frames] == [0, 13, 25, 38]
    for frame in frames[:2]:
        assert np.abs(frame.rgb.astype(np.float32) - picture).mean() < 8
    for frame in frames[2:]:
        assert frame.rgb.max() < 20


def unreadable(path: Path) -> str:
    with pytest.raises(VideoUnreadable) as probed:
        probe(path)
    with pytest.raises(VideoUnreadable) as sampled:
        list(sample(path, 1))
    return str(probed.value) + " | " + str(sampled.value)


def test_truncated_mp4_with_the_index_at_the_end(clip: Path, tmp_path: Path) -> None:
    data = clip.read_bytes()
    cut = tmp_path / ("cut" + clip.suffix)
    cut.write_bytes(data[: len(data) // 2])
    assert "truncated" in unreadable(cut)


def test_truncated_mp4_with_the_index_at_the_front(tmp_path: Path) -> None:
    whole = make_clip(tmp_path / "fast.mp4", [(pattern(), 2 * FPS), (plain(RED), 4 * FPS)], faststart=True)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoUnreadable, match="truncated"):
        list(sample(cut, 1))


def test_a_damaged_spot_is_skipped(tmp_path: Path) -> None:
    """A few bad bytes mid-file lose a frame or two, not the whole video; frame numbers stay true."""
    moving = [(np.roll(pattern(), 7 * n, axis=1), 1) for n in range(3 * FPS)]
    data = bytearray(make_clip(tmp_path / "moving.mp4", moving, faststart=True).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 300] = np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    frames = list(sample(damaged, 5))
    assert len(frames) >= 14
    for frame in frames:
        assert frame.frame_number == frame.timestamp_millis * FPS // 1000


def test_a_mostly_damaged_file(tmp_path: Path) -> None:
    data = bytearray(make_clip(tmp_path / "clip.mp4", SEGMENTS * 2, faststart=True).read_bytes())
    noise = np.random.default_rng(2).integers(0, 256, len(data), dtype=np.uint8).tobytes()
    start = len(data) // 5  # the index and the first frames survive
    data[start:] = noise[start:]
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with pytest.raises(VideoUnreadable, match="corrupt"):
        list(sample(damaged, 1))


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    assert "not a video" in unreadable(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    assert "not a video" in unreadable(path)


def test_png_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "picture.mp4"
    Image.fromarray(pattern()).save(path, format="PNG")
    assert "still image, not a video" in unreadable(path)


def test_audio_only(tmp_path: Path) -> None:
    path = make_audio_only(tmp_path / "sound.m4a")
    assert "no video stream" in unreadable(path)


def test_other_codec(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "mpeg4.mp4", [(pattern(), 5)], codec="mpeg4")
    message = unreadable(path)
    assert "Unsupported codec/format" in message and "mpeg4" in message


def test_other_container(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "clip.mkv", [(pattern(), 5)])
    message = unreadable(path)
    assert "Unsupported codec/format" in message and "Matroska" in message


def test_a_playlist_is_not_followed(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "real.mp4", [(pattern(), 5)])
    playlist = tmp_path / "playlist.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile://{clip}\n#EXT-X-ENDLIST\n")
    assert "HLS playlist" in unreadable(playlist)


def test_missing_file(tmp_path: Path) -> None:
    assert "not a video" in unreadable(tmp_path / "absent.mp4")


def test_metadata_is_frozen() -> None:
    metadata = VideoMetadata("h264", 1000, "QuickTime / MOV", 25.0, 240, 320, "LIMITED")
    with pytest.raises(AttributeError):
        metadata.codec = "hevc"  # type: ignore[misc]


def test_frames_over_the_size_limit_are_refused_before_decoding(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A header may declare any frame size; above the limit nothing is decoded."""
    import openrek.video.decode as decode

    monkeypatch.setattr(decode, "MAX_FRAME_PIXELS", WIDTH * HEIGHT - 1)
    for read in (lambda: probe(clip), lambda: next(sample(clip, 1.0))):
        with pytest.raises(VideoUnreadable) as refused:
            read()
        assert f"{WIDTH}x{HEIGHT}" in str(refused.value)
    monkeypatch.setattr(decode, "MAX_FRAME_PIXELS", WIDTH * HEIGHT)
    assert probe(clip).frame_width == WIDTH

"""Reusing a tracked face's search result: while it looks the same, for at most a second."""

from __future__ import annotations

import cv2
import numpy as np

from openrek.jobs.face_identities import SearchedTracks, face_thumbnail, likeness

BOX = np.array([40.0, 30.0, 140.0, 150.0])


def picture(seed: int) -> np.ndarray:
    """Smooth random texture, so a shift of a few pixels changes it little."""
    noise = np.random.default_rng(seed).integers(0, 256, (6, 8, 3)).astype(np.uint8)
    return cv2.resize(noise, (256, 192), interpolation=cv2.INTER_CUBIC)


def test_the_same_face_moved_a_little_looks_alike_and_another_does_not() -> None:
    first = face_thumbnail(picture(1), BOX)
    moved = face_thumbnail(picture(1), BOX + 3)
    other = face_thumbnail(picture(2), BOX)
    assert likeness(first, first) > 0.999
    assert likeness(first, moved) > 0.7 > likeness(first, other)


def test_a_result_is_reused_only_while_recent_and_alike() -> None:
    tracks: SearchedTracks[str] = SearchedTracks(refresh_millis=1000, min_likeness=0.7)
    face = face_thumbnail(picture(1), BOX)
    assert tracks.reusable(0, face, 0) is None
    tracks.remember(0, face, 0, "obama")
    assert tracks.reusable(0, face_thumbnail(picture(1), BOX + 3), 200) == "obama"
    assert tracks.reusable(0, face_thumbnail(picture(2), BOX), 400) is None  # a cut to someone else
    assert tracks.reusable(1, face, 400) is None  # another track
    assert tracks.reusable(0, face, 1000) is None  # a second on: searched again
    assert (tracks.searches, tracks.reuses) == (1, 1)


def test_old_results_are_forgotten() -> None:
    tracks: SearchedTracks[str] = SearchedTracks(refresh_millis=1000)
    face = face_thumbnail(picture(1), BOX)
    tracks.remember(0, face, 0, "a")
    tracks.remember(1, face, 1500, "b")
    assert tracks.reusable(0, face, 1600) is None and tracks.reusable(1, face, 1600) == "b"
    assert len(tracks._by_track) == 1


def test_an_empty_box_gives_a_flat_thumbnail() -> None:
    flat = face_thumbnail(picture(1), np.array([50.0, 50.0, 50.0, 60.0]))
    assert likeness(flat, face_thumbnail(picture(1), BOX)) == 0.0

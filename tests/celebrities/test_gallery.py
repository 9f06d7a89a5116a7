"""The gallery store and the matching rule, without models: vectors made up here."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from openrek.celebrities.gallery import GALLERY_FILE, CelebrityGallery, Enrolment, Gallery, GalleryError
from openrek.celebrities.matching import recognise
from openrek.celebrities.postgres_gallery import PostgresCelebrityGallery

OpenGallery = Callable[[], Gallery]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.needs_postgres)])
def open_gallery(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenGallery]:
    """Another gallery object on the same store: the same file, or the same database."""
    opened: list[Gallery] = []
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None

    def open_one() -> Gallery:
        gallery: Gallery = PostgresCelebrityGallery(url) if url else CelebrityGallery(tmp_path)
        opened.append(gallery)
        return gallery

    yield open_one
    for gallery in opened:
        gallery.close()


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


def enrolment(vector: np.ndarray, version: str = "1.0") -> Enrolment:
    return Enrolment(photo_sha256="0" * 64, vectors={version: vector})


def test_a_celebrity_keeps_its_id_and_details_across_reopening(open_gallery: OpenGallery) -> None:
    gallery = open_gallery()
    added = gallery.add("Ada Lovelace", ["https://example.org/ada"], "Female", [enrolment(unit(1, 0, 0))])
    assert re.fullmatch(r"[0-9A-Za-z]{8}", added.celebrity_id)
    gallery.close()
    reopened = open_gallery()
    again = reopened.get(added.celebrity_id)
    assert again == added
    assert again is not None and again.info() == {
        "Name": "Ada Lovelace",
        "Urls": ["https://example.org/ada"],
        "KnownGender": {"Type": "Female"},
    }
    assert again is not None and dict(again.faces) == {"1.0": 1}


def test_no_photo_is_kept_only_vectors(tmp_path: Path) -> None:
    gallery = CelebrityGallery(tmp_path)
    gallery.add("Ada", [], None, [enrolment(unit(1, 0, 0))])
    gallery.close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        GALLERY_FILE
    ]
    # A gender left out is left out of the answer, not guessed.
    assert "KnownGender" not in CelebrityGallery(tmp_path).everyone()[0].info()


def test_bad_details_are_refused(open_gallery: OpenGallery) -> None:
    gallery = open_gallery()
    with pytest.raises(GalleryError):
        gallery.add(" ", [], None, [enrolment(unit(1, 0))])
    with pytest.raises(GalleryError):
        gallery.add("Ada", [], "Robot", [enrolment(unit(1, 0))])
    with pytest.raises(GalleryError):
        gallery.add("Ada", [], None, [])
    assert gallery.everyone() == []


def test_a_reader_sees_another_connections_changes(open_gallery: OpenGallery) -> None:
    """The server reads while `openrek celebrities add` (another process, or host) writes."""
    server_side, cli_side = open_gallery(), open_gallery()
    assert len(server_side.face_vectors("1.0")) == 0
    ada = cli_side.add("Ada", [], None, [enrolment(unit(1, 0, 0)), enrolment(unit(0.9, 0.1, 0))])
    vectors = server_side.face_vectors("1.0")
    assert vectors.owners == (ada.celebrity_id, ada.celebrity_id) and vectors.vectors.shape == (2, 3)
    assert len(server_side.face_vectors("2.0")) == 0  # another model's vectors never mix in
    assert cli_side.remove(ada.celebrity_id) and not cli_side.remove(ada.celebrity_id)
    assert len(server_side.face_vectors("1.0")) == 0


def test_each_celebrity_is_one_face_of_a_picture(open_gallery: OpenGallery) -> None:
    gallery = open_gallery()
    ada = gallery.add("Ada", [], None, [enrolment(unit(1, 0, 0)), enrolment(unit(0, 0, 1))])
    bob = gallery.add("Bob", [], None, [enrolment(unit(0, 1, 0))])
    vectors = gallery.face_vectors("1.0")
    # Best of a celebrity's photos counts: the second face is Ada's second look.
    found = recognise([unit(0.1, 1, 0), unit(0, 0.1, 1), unit(1, 1, 1)], vectors, min_cosine=0.9)
    assert [r.celebrity.celebrity_id if r else None for r in found] == [
        bob.celebrity_id,
        ada.celebrity_id,
        None,
    ]
    # Two faces close to Ada: the closer one is Ada, the other is nobody (Bob is too far).
    found = recognise([unit(1, 0.3, 0), unit(1, 0.05, 0)], vectors, min_cosine=0.9)
    assert found[0] is None and found[1] is not None and found[1].celebrity.celebrity_id == ada.celebrity_id
    assert recognise([], vectors, 0.5) == []

"""The text reader in-process: dictionary alignment, word boxes from the CTC alignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openrek.config import Settings
from openrek.inference.text.geometry import fraction_inside, slice_quad
from openrek.inference.text.reader import Line, TextReader, build_text_reader
from openrek.inference.text.sideways import QUARTER_TURNS, looks_sideways, quad_back, turned
from openrek.models.store import ModelStore


@pytest.fixture(scope="module")
def reader(models: ModelStore) -> TextReader:
    return build_text_reader(models, Settings.from_env().runtime)


@pytest.fixture(scope="module")
def eurotext(reader: TextReader, photos: Path) -> list[Line]:
    return reader.read(np.asarray(Image.open(photos / "tesserocr/eurotext.png").convert("RGB")))


def test_dictionary_matches_the_models_classes(reader: TextReader) -> None:
    # blank + the metadata's characters + space must be exactly the network's classes,
    # or every character after a mismatch would be read as its neighbour.
    strip = np.zeros((1, 3, 48, 64), dtype=np.float32)
    (scores,) = reader.recognizer._session.run({reader.recognizer._input: strip})
    assert scores.shape[-1] == len(reader.recognizer._classes) == 18710


def test_words_tile_their_line_left_to_right(eurotext: list[Line]) -> None:
    lines = eurotext
    assert [line.text for line in lines][:2] == [
        "The (quick) [brown] {fox} jumps!",
        "Over the $43,456.78 <lazy> #90 dog",
    ]
    for line in lines:
        assert line.text == " ".join(w.text for w in line.words)
        direction = line.quad[1] - line.quad[0]
        starts = [float((w.quad[0] - line.quad[0]) @ direction) for w in line.words]
        ends = [float((w.quad[1] - line.quad[0]) @ direction) for w in line.words]
        assert starts == sorted(starts)
        # Consecutive words do not overlap by more than a sliver (one CTC step).
        step = 8 * np.linalg.norm(line.quad[3] - line.quad[0]) / 48 * np.linalg.norm(direction)
        for end, next_start in zip(ends, starts[1:], strict=False):
            assert next_start > end - step
        for word in line.words:
            assert fraction_inside(word.quad, line.quad) > 0.95


def test_word_box_width_follows_its_letters(eurotext: list[Line]) -> None:
    # "aspammer@website.com" is 20 characters, "is" 2, on the same line.
    line = next(line for line in eurotext if "aspammer" in line.text)
    words = {w.text: w for w in line.words}
    long_word = np.linalg.norm(words["aspammer@website.com"].quad[1] - words["aspammer@website.com"].quad[0])
    short_word = np.linalg.norm(words["is"].quad[1] - words["is"].quad[0])
    assert 5 < long_word / short_word < 20


def test_fraction_inside_halves() -> None:
    quad = np.array([[10, 10], [110, 20], [108, 40], [8, 30]], dtype=np.float32)
    assert fraction_inside(quad, quad) == pytest.approx(1.0, abs=0.03)
    assert fraction_inside(quad, slice_quad(quad, 0.0, 0.5)) == pytest.approx(0.5, abs=0.05)
    assert fraction_inside(quad, slice_quad(quad, 0.6, 1.0)) == pytest.approx(0.4, abs=0.05)
    far = np.array([[500, 500], [600, 500], [600, 600]], dtype=np.float64)
    assert fraction_inside(quad, far) == 0.0


def test_lone_tall_digit_is_read_upright(reader: TextReader, photos: Path) -> None:
    # The "1" of the generator's "GM 125" plate, alone: its box is taller than wide,
    # like a column of text, but it is one upright glyph.
    crop = Image.open(photos / "opencv-doc/scenetext04.jpg").crop((480, 405, 510, 470)).resize((90, 195))
    (line,) = reader.read(np.asarray(crop.convert("RGB")))
    assert line.text == "1" and line.confidence >= 0.8
    top_left, top_right, _, bottom_left = line.quad
    assert top_right[0] > top_left[0] + 30 and bottom_left[1] > top_left[1] + 100


def test_text_turned_a_quarter_is_read_along_its_column(reader: TextReader, photos: Path) -> None:
    turned = Image.open(photos / "opencv-doc/scenetext01.jpg").rotate(-90, expand=True)
    texts = [line.text for line in reader.read(np.asarray(turned.convert("RGB")))]
    assert {"NOTICE", "DOUBLE"} <= set(texts)


def test_quads_on_a_turned_photo_map_back_onto_the_photo() -> None:
    # A 30 x 20 photo with one marked pixel; turned either way, the pixel's place on
    # the turned photo maps back to where it was.
    photo = np.zeros((20, 30), dtype=np.uint8)
    photo[4, 25] = 1
    for quarter_turns in QUARTER_TURNS:
        y, x = np.argwhere(turned(photo, quarter_turns))[0]
        # Pixel centres: (x + 0.5, y + 0.5) on the turned photo is (25.5, 4.5) here.
        centre = np.array([[x + 0.5, y + 0.5]] * 4, dtype=np.float32)
        back = quad_back(centre, quarter_turns, height=20, width=30)
        assert np.allclose(back[0], [25.5, 4.5]), quarter_turns


def test_a_few_tall_boxes_do_not_make_a_photo_sideways() -> None:
    assert looks_sideways([True, True, True, False])
    assert not looks_sideways([True, False, False, False, False])
    assert not looks_sideways([True])  # a lone "1"


def test_photo_taken_sideways_is_read_upright(reader: TextReader, photos: Path) -> None:
    # A cookie box photographed on its side: every line runs bottom to top. Read as
    # columns, 8 of its 22 words came out; turned upright, nearly all of them.
    image = Image.open(photos / "opencv-doc/box.png").convert("RGB")
    lines = reader.read(np.asarray(image))
    words = {w.text: w for line in lines for w in line.words if w.confidence >= 0.8}
    assert {"Product", "Italy", "Cantuccini", "Mandorla", "Netto", "NET", "OZ"} <= set(words)
    # Boxes are on the photo as given: "Crisp" is in its left third, and as read its
    # top edge runs up the photo (bottom to top).
    crisp = words["Crisp"].quad
    assert crisp[:, 0].max() < image.width / 3
    assert crisp[1][1] < crisp[0][1] - 20 and abs(crisp[1][0] - crisp[0][0]) < 10


def test_faint_space_between_characters_splits_words(reader: TextReader) -> None:
    # Scores over 6 steps: "A", blank, "B", blank, "C", blank. The blank after "A"
    # carries a little space probability (a narrow word space), the one after "B"
    # none: only the first becomes a space.
    recognizer = reader.recognizer
    classes = recognizer._classes
    space = len(classes) - 1
    letter = {ch: classes.index(ch) for ch in "ABC"}
    scores = np.zeros((6, len(classes)), dtype=np.float32)
    for step, label in enumerate([letter["A"], 0, letter["B"], 0, letter["C"], 0]):
        scores[step, label] = 0.97
    scores[1, space] = 0.02
    scores[3, space] = 0.001
    line = recognizer._decode(scores, width=48, content=48)
    assert line.text == "A BC"
    assert [w.text for w in line.words] == ["A", "BC"]
    assert line.words[0].end <= line.words[1].start + 1e-6

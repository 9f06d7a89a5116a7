"""TextReader: photo -> lines of text and their words, each with a quad and a confidence.

Detect line quads, crop each upright along its own slant, turn upside-down crops
around, read all crops in width-sorted batches, then cut every line into words at
the spaces the recogniser emitted, each word's quad the slice of its line's quad
between the word's first and last character.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openrek.inference.session import RuntimeSettings, model_metadata, open_session
from openrek.inference.text.detector import TextDetector
from openrek.inference.text.geometry import (
    crop_quad,
    is_column,
    reading_quad,
    slice_quad,
    turn_around,
)
from openrek.inference.text.orientation import OrientationClassifier
from openrek.inference.text.recognizer import TextRecognizer
from openrek.inference.text.sideways import QUARTER_TURNS, looks_sideways, quad_back, turned
from openrek.models.store import ModelStore

TEXT_MODELS = ("text-detector", "text-orientation", "text-recognizer")


def _check_reading(text: str, confidence: float, quad: np.ndarray) -> None:
    if not text:
        raise ValueError("a reading has text")
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence {confidence} is not in [0, 1]")
    if quad.shape != (4, 2) or not np.isfinite(quad).all():
        raise ValueError(f"a quad is 4 finite (x, y) points, not {quad.shape}")


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-1
    quad: np.ndarray  # (4, 2) photo pixels, reading order (top-left of the text first)

    def __post_init__(self) -> None:
        _check_reading(self.text, self.confidence, self.quad)


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float  # 0-1
    quad: np.ndarray  # (4, 2) as a Word's
    words: tuple[Word, ...]

    def __post_init__(self) -> None:
        _check_reading(self.text, self.confidence, self.quad)
        if not self.words:
            raise ValueError("a line has at least one word")


class TextReader:
    def __init__(
        self,
        detector: TextDetector,
        orientation: OrientationClassifier | None,
        recognizer: TextRecognizer,
    ) -> None:
        self.detector = detector
        self.orientation = orientation
        self.recognizer = recognizer

    def read(self, image_rgb: np.ndarray) -> list[Line]:
        """Every line with readable text, in reading order (rows top to bottom, each
        row left to right). A photo whose text mostly runs up or down it is also read
        turned upright, and the reading with more confident characters is kept."""
        image_bgr = np.ascontiguousarray(image_rgb[:, :, ::-1])  # PaddleOCR models read BGR
        lines, sideways = self._read_once(image_bgr)
        if sideways:
            height, width = image_bgr.shape[:2]
            for quarter_turns in QUARTER_TURNS:
                upright, _ = self._read_once(turned(image_bgr, quarter_turns))
                if _weight(upright) > _weight(lines):
                    lines = [_mapped_back(line, quarter_turns, height, width) for line in upright]
        return reading_order(lines)

    def _read_once(self, image_bgr: np.ndarray) -> tuple[list[Line], bool]:
        """The lines read on the photo as it is, and whether it looks sideways."""
        # (detected line, quad to read it along); a column is read along its length,
        # and also upright, since a lone tall glyph ("1", "I") is an upright line too.
        candidates: list[tuple[int, np.ndarray]] = []
        columns: list[bool] = []
        for index, found in enumerate(self.detector.detect(image_bgr)):
            candidates.append((index, reading_quad(found.quad)))
            columns.append(is_column(found.quad))
            if columns[-1]:
                candidates.append((index, found.quad))
        if not candidates:
            return [], False
        quads = [quad for _, quad in candidates]
        crops = [crop_quad(image_bgr, quad) for quad in quads]
        if self.orientation is not None:
            for index, flipped in enumerate(self.orientation.upside_down(crops)):
                if flipped:
                    quads[index] = turn_around(quads[index])
                    crops[index] = np.ascontiguousarray(crops[index][::-1, ::-1])
        best: dict[int, Line] = {}
        for (index, _), quad, read in zip(candidates, quads, self.recognizer.read(crops), strict=True):
            if not read.words or (index in best and best[index].confidence >= read.confidence):
                continue
            words = tuple(Word(w.text, w.confidence, slice_quad(quad, w.start, w.end)) for w in read.words)
            best[index] = Line(read.text, read.confidence, quad, words)
        return list(best.values()), looks_sideways(columns)


def _weight(lines: list[Line]) -> float:
    """How much confident text a reading holds: characters times their confidence."""
    return sum(len(line.text) * line.confidence for line in lines)


def _mapped_back(line: Line, quarter_turns: int, height: int, width: int) -> Line:
    words = tuple(
        Word(w.text, w.confidence, quad_back(w.quad, quarter_turns, height, width)) for w in line.words
    )
    return Line(line.text, line.confidence, quad_back(line.quad, quarter_turns, height, width), words)


def reading_order(lines: list[Line]) -> list[Line]:
    """Rows top to bottom, lines within a row left to right, both measured in the
    frame of the photo's dominant text direction (a page shot at a slant is read
    along its own lines, not the photo's axes). Two lines share a row when their
    centres are closer across the text than half the smaller one's height."""
    if not lines:
        return []
    angles = [np.arctan2(*(line.quad[1] - line.quad[0])[::-1]) for line in lines]
    slant = float(np.median(angles))
    along = np.array([np.cos(slant), np.sin(slant)])
    across = np.array([-np.sin(slant), np.cos(slant)])
    placed = []
    for line in lines:
        height = float(np.linalg.norm(line.quad[3] - line.quad[0]))
        placed.append((line, float(line.quad.mean(axis=0) @ across), height))
    placed.sort(key=lambda p: p[1])
    rows: list[list[tuple[Line, float, float]]] = []
    for entry in placed:
        row = rows[-1] if rows else None
        if row is not None and abs(entry[1] - row[0][1]) < 0.5 * min(entry[2], row[0][2]):
            row.append(entry)
        else:
            rows.append([entry])
    return [p[0] for row in rows for p in sorted(row, key=lambda p: float(p[0].quad[0] @ along))]


def build_text_reader(store: ModelStore, runtime: RuntimeSettings) -> TextReader:
    store.verify(TEXT_MODELS)
    recognizer = open_session(store.path("text-recognizer"), runtime)
    return TextReader(
        TextDetector(open_session(store.path("text-detector"), runtime)),
        OrientationClassifier(open_session(store.path("text-orientation"), runtime)),
        # The character list lives in the ONNX file's metadata.
        TextRecognizer.from_session(recognizer, model_metadata(recognizer)),
    )

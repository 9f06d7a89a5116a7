"""PP-OCRv6 line recogniser (CTC) and the words read from its alignment.

The network reads a line crop scaled to 48 px high as a sequence of time steps, one
per 8 px column, each a distribution over blank + the characters in the model's
metadata + space. Greedy CTC decoding keeps the best class of each step, merges
repeats and drops blanks; the steps where each character fires say where it sits
along the line, which is how a line becomes words with their own boxes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.session import Session

HEIGHT = 48
# Crops are padded to at least this width. PaddleOCR pads to 320 (its training
# width); reading short words at their own width halves the time on signs and read
# the eval photos as well (425 of 460 words against 423 at 320).
MIN_WIDTH = 64
BATCH = 8
# A batch is padded to its widest crop: a crop this much wider than the batch's
# narrowest starts a new batch instead, so little time goes into reading padding.
MAX_WIDTH_SPREAD = 1.5
# Longer crops are squeezed to this width (a 66:1 line, well over 100 letters): the
# scores of one crop are (width / 8) steps x 18,710 classes, 30 MB at this width.
MAX_WIDTH = 3200
# ...and a batch holds at most this many columns, so a page of long lines is read a
# few lines at a time rather than allocating for eight of them at once.
BATCH_COLUMNS = 6400
BLANK = 0
# Probability the space class needs somewhere in a blank run between two characters
# for the run to count as a word space (see _decode). Chosen on the tuning photos:
# every value from 0.005 to 0.03 read the same words there and on the original set
# (a plate's "5AU 5341" has 0.03 in its gap, the blanks inside its letter groups at
# most 0.002); 0.01 sits inside that range.
SPACE_CHANCE = 0.01


@dataclass(frozen=True)
class ReadWord:
    text: str
    confidence: float  # mean probability of its characters, 0-1
    start: float  # where it begins along the line, as a fraction of the crop's length
    end: float


@dataclass(frozen=True)
class ReadLine:
    text: str
    confidence: float  # mean probability of its characters (spaces included), 0-1
    words: list[ReadWord]


def to_network_strip(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """A BGR crop scaled to `height` (aspect kept, at most `width`), normalised to
    [-1, 1], channels first, zero-padded on the right to `width`."""
    content = _content_width(crop, height, width)
    resized = cv2.resize(crop, (content, height), interpolation=cv2.INTER_LINEAR)
    strip = np.zeros((3, height, width), dtype=np.float32)
    strip[:, :, :content] = resized.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    return strip


def _content_width(crop: np.ndarray, height: int, width: int) -> int:
    crop_height, crop_width = crop.shape[:2]
    return int(max(1, min(width, math.ceil(height * crop_width / max(1, crop_height)))))


class TextRecognizer:
    def __init__(self, session: Session, characters: list[str], height: int = HEIGHT) -> None:
        self._session = session
        self._height = height  # the strip height the network was trained on
        self._input = session.input_names[0]
        # Class 0 is the CTC blank; the model's dictionary follows; the last class is
        # the space (PaddleOCR appends it when the dictionary is built with spaces).
        self._classes = ["", *characters, " "]

    @classmethod
    def from_session(cls, session: Session, metadata: dict[str, str]) -> TextRecognizer:
        characters = metadata.get("character")
        if not characters:
            raise ValueError("the recognition model carries no character list in its metadata")
        # One character per line; splitlines() would also split at the rare Unicode line
        # separators, shifting every class after them.
        # A model trained on another strip height says so in its metadata (the
        # converted English recogniser: 64 px); PP-OCR's recognisers read 48 px.
        return cls(session, characters.split("\n"), int(metadata.get("height", HEIGHT)))

    def read(self, crops: list[np.ndarray]) -> list[ReadLine]:
        """Read each BGR line crop. Crops of similar aspect are batched together so
        little of each batch is padding."""
        results: list[ReadLine | None] = [None] * len(crops)
        natural = [_content_width(crop, self._height, MAX_WIDTH) for crop in crops]
        for chosen in _batches(natural):
            width = max(MIN_WIDTH, math.ceil(max(natural[i] for i in chosen) / 8) * 8)
            batch = np.stack([to_network_strip(crops[i], self._height, width) for i in chosen])
            (scores,) = self._session.run({self._input: batch})
            for row, index in enumerate(chosen):
                content = _content_width(crops[index], self._height, width)
                results[index] = self._decode(scores[row], width, content)
        return [r for r in results if r is not None]

    def _decode(self, scores: np.ndarray, width: int, content: int) -> ReadLine:
        classes = scores.argmax(axis=1)
        probabilities = scores.max(axis=1)
        # Each time step covers width / steps input columns; positions are turned into
        # fractions of the crop's content (the part before the padding).
        step_fraction = (width / len(classes)) / content
        chars: list[tuple[str, float, float]] = []  # (character, probability, centre step)
        space = len(self._classes) - 1
        step = 0
        while step < len(classes):
            label = int(classes[step])
            run_end = step + 1
            while run_end < len(classes) and classes[run_end] == label:
                run_end += 1
            if label == BLANK and chars and not chars[-1][0].isspace() and run_end < len(classes):
                # A narrow word space loses its step to the blank: words printed close
                # together ("CAN SOMEONE", a plate's "5AU 5341") read as one. Where the
                # space class still holds a fair share of a blank run between two
                # characters, the recogniser saw a space there.
                chance = float(scores[step:run_end, space].max()) if space < scores.shape[1] else 0.0
                if chance >= SPACE_CHANCE:
                    certainty = float(probabilities[step:run_end].max())
                    chars.append((" ", certainty, (step + run_end) / 2.0))
            elif label != BLANK and label < len(self._classes):
                best = float(probabilities[step:run_end].max())
                chars.append((self._classes[label], best, (step + run_end) / 2.0))
            step = run_end
        text = "".join(c for c, _, _ in chars).strip()
        if not text:
            return ReadLine("", 0.0, [])
        confidence = float(np.mean([p for _, p, _ in chars]))
        return ReadLine(" ".join(text.split()), confidence, _words(chars, step_fraction))


def _batches(widths: list[int]) -> list[list[int]]:
    """Indices of crops grouped by width: narrowest first, at most BATCH per group,
    the widest of a group at most MAX_WIDTH_SPREAD times its narrowest and the group
    padded to its widest within BATCH_COLUMNS."""
    groups: list[list[int]] = []
    for index in sorted(range(len(widths)), key=lambda i: widths[i]):
        group = groups[-1] if groups else None
        if (
            group
            and len(group) < BATCH
            and widths[index] <= MAX_WIDTH_SPREAD * widths[group[0]]
            and (len(group) + 1) * widths[index] <= BATCH_COLUMNS
        ):
            group.append(index)
        else:
            groups.append([index])
    return groups


def _words(chars: list[tuple[str, float, float]], step_fraction: float) -> list[ReadWord]:
    """Split a decoded line on spaces; each word spans its first to last character,
    widened by half the line's character pitch on each side."""
    centres = [c for ch, _, c in chars if not ch.isspace()]
    gaps = np.diff(centres) if len(centres) > 1 else np.array([])
    # The pitch of adjacent letters: the median gap between consecutive letters (the
    # few wider gaps across spaces barely move a median).
    pitch = float(np.median(gaps)) if gaps.size else 2.0
    words: list[ReadWord] = []
    current: list[tuple[str, float, float]] = []
    for char in [*chars, (" ", 0.0, 0.0)]:
        if char[0].isspace():
            if current:
                start = (current[0][2] - pitch / 2) * step_fraction
                end = (current[-1][2] + pitch / 2) * step_fraction
                words.append(
                    ReadWord(
                        "".join(c for c, _, _ in current),
                        float(np.mean([p for _, p, _ in current])),
                        max(0.0, start),
                        min(1.0, end),
                    )
                )
            current = []
        else:
            current.append(char)
    return words

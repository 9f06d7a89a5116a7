"""DetectText: LINE and WORD detections, filtered as Rekognition's DetectTextFilters say.

Words are what the filters act on: a word is kept when its confidence and box size
pass WordFilter and, if regions of interest are given, more than half of it lies in
one of them. A line is returned only with at least one kept word, and then reads
and spans exactly its kept words, so every line is made of the words returned
under it. At most 100 words are returned (the first in reading order), with their
lines. Ids number the lines first, then the words, in reading order; a word's
ParentId is its line's Id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openrek.inference.text.geometry import fraction_inside, slice_quad
from openrek.inference.text.reader import Line, Word
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import InvalidParameterException
from openrek.services import Services

TEXT_MODEL_VERSION = "3.0"
MAX_WORDS = 100
DEFAULT_MIN_CONFIDENCE = 80.0
# Below this the recogniser is guessing (a blur or a texture read as letters): such
# words are never returned, whatever MinConfidence asks for.
CONFIDENCE_FLOOR = 50.0


@dataclass(frozen=True)
class WordFilter:
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    min_width: float = 0.0  # ratio of the image width
    min_height: float = 0.0


def detect_text(params: dict[str, Any], services: Services) -> dict[str, Any]:
    image = services.load_image(params["Image"])
    return {
        "TextDetections": text_detections(image.rgb, params.get("Filters") or {}, services),
        "TextModelVersion": TEXT_MODEL_VERSION,
    }


def text_detections(rgb: np.ndarray, filters: dict[str, Any], services: Services) -> list[dict[str, Any]]:
    """The LINE and WORD detections of one picture (a photo, or a frame of a video) under
    DetectText's Filters (WordFilter, RegionsOfInterest)."""
    height, width = rgb.shape[:2]
    word_filter = _word_filter(filters.get("WordFilter") or {})
    regions = _regions(filters.get("RegionsOfInterest") or [], width, height)
    kept = _filter(services.text_reader.read(rgb), word_filter, regions, width, height)
    return _detections(kept, width, height)


def check_filters(filters: dict[str, Any]) -> None:
    """Raise the error DetectText would for these Filters (a video job checks them at Start)."""
    _word_filter(filters.get("WordFilter") or {})
    _regions(filters.get("RegionsOfInterest") or [], 1, 1)


def _word_filter(raw: dict[str, Any]) -> WordFilter:
    return WordFilter(
        min_confidence=float(raw.get("MinConfidence", DEFAULT_MIN_CONFIDENCE)),
        min_width=float(raw.get("MinBoundingBoxWidth", 0.0)),
        min_height=float(raw.get("MinBoundingBoxHeight", 0.0)),
    )


def _regions(raw: list[dict[str, Any]], width: int, height: int) -> list[np.ndarray]:
    """Each region of interest as a polygon in image pixels."""
    regions = []
    for region in raw:
        box, polygon = region.get("BoundingBox"), region.get("Polygon")
        if box is None and polygon is None:
            raise InvalidParameterException("A region of interest needs a BoundingBox or a Polygon")
        if box is not None:
            missing = [k for k in ("Width", "Height", "Left", "Top") if k not in box]
            if missing:
                raise InvalidParameterException(
                    f"The BoundingBox of a region of interest lacks {', '.join(missing)}"
                )
            left, top = box["Left"] * width, box["Top"] * height
            right, bottom = left + box["Width"] * width, top + box["Height"] * height
            regions.append(np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float64))
        if polygon is not None:
            if len(polygon) < 3 or any("X" not in p or "Y" not in p for p in polygon):
                raise InvalidParameterException(
                    "The Polygon of a region of interest needs at least 3 points, each with X and Y"
                )
            regions.append(np.array([[p["X"] * width, p["Y"] * height] for p in polygon], np.float64))
    return regions


def _passes(word: Word, rules: WordFilter, regions: list[np.ndarray], width: int, height: int) -> bool:
    confidence = word.confidence * 100
    if confidence < max(rules.min_confidence, CONFIDENCE_FLOOR):
        return False
    span = word.quad.max(axis=0) - word.quad.min(axis=0)
    if span[0] / width < rules.min_width or span[1] / height < rules.min_height:
        return False
    return not regions or any(fraction_inside(word.quad, region) > 0.5 for region in regions)


def _filter(
    lines: list[Line], rules: WordFilter, regions: list[np.ndarray], width: int, height: int
) -> list[Line]:
    kept, budget = [], MAX_WORDS
    for line in lines:
        words = [w for w in line.words if _passes(w, rules, regions, width, height)][:budget]
        if not words:
            continue
        budget -= len(words)
        kept.append(_line_of(line, words))
        if budget == 0:
            break
    return kept


def _line_of(line: Line, words: list[Word]) -> Line:
    """The line as made of the given words only: their text, span and confidence."""
    quad = _span(line.quad, words[0].quad, words[-1].quad)
    letters = sum(len(w.text) for w in words)
    confidence = sum(w.confidence * len(w.text) for w in words) / letters
    return Line(" ".join(w.text for w in words), confidence, quad, tuple(words))


def _span(line_quad: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The slice of a line's quad from the start of one word to the end of another."""
    length = float(np.linalg.norm(line_quad[1] - line_quad[0])) or 1.0
    direction = (line_quad[1] - line_quad[0]) / length
    start = float(np.dot(first[0] - line_quad[0], direction)) / length
    end = float(np.dot(last[1] - line_quad[0], direction)) / length
    return slice_quad(line_quad, start, end)


def _geometry(quad: np.ndarray, width: int, height: int) -> dict[str, Any]:
    ratios = np.clip(quad / np.array([width, height], dtype=np.float64), 0.0, 1.0)
    left, top = ratios.min(axis=0)
    right, bottom = ratios.max(axis=0)
    return {
        "BoundingBox": {
            "Width": float(right - left),
            "Height": float(bottom - top),
            "Left": float(left),
            "Top": float(top),
        },
        "Polygon": [{"X": float(x), "Y": float(y)} for x, y in ratios],
    }


def _detections(lines: list[Line], width: int, height: int) -> list[dict[str, Any]]:
    detections: list[dict[str, Any]] = []
    for line_id, line in enumerate(lines):
        detections.append(
            {
                "DetectedText": line.text,
                "Type": "LINE",
                "Id": line_id,
                "Confidence": float(line.confidence * 100),
                "Geometry": _geometry(line.quad, width, height),
            }
        )
    next_id = len(lines)
    for line_id, line in enumerate(lines):
        for word in line.words:
            detections.append(
                {
                    "DetectedText": word.text,
                    "Type": "WORD",
                    "Id": next_id,
                    "ParentId": line_id,
                    "Confidence": float(word.confidence * 100),
                    "Geometry": _geometry(word.quad, width, height),
                }
            )
            next_id += 1
    return detections


HANDLERS: dict[str, Handler[Services]] = {"DetectText": detect_text}

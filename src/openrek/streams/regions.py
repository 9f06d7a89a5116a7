"""RegionsOfInterest: where in the frame a ConnectedHome processor looks.

AWS's rule (the RegionOfInterest shape in the API reference): a detection is in a
region when more than half of it is in that region, each region judged on its own (a
box split evenly across two touching regions is in neither). Here "half of it" is
half of the detection box's area: the area of the box that lies inside the region's
BoundingBox or Polygon, over the box's area. No regions means the whole frame.

Coordinates are ratios of the frame's width and height, as in the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_REGIONS = 10  # AWS's limit
MIN_POLYGON_POINTS = 3

Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, right, bottom, as ratios of the frame


class RegionsInvalid(ValueError):
    """str(error) says what is wrong, for an InvalidParameterException."""


@dataclass(frozen=True)
class Region:
    """A region as the polygon it covers (a BoundingBox is a 4-point polygon)."""

    points: tuple[Point, ...]


def _ratio(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise RegionsInvalid(f"{what} must be a number from 0 to 1")
    return float(value)


def parse_regions(raw: Sequence[dict[str, Any]] | None) -> list[Region]:
    """The request's RegionsOfInterest as polygons; RegionsInvalid when one cannot be a region."""
    if not raw:
        return []
    if len(raw) > MAX_REGIONS:
        raise RegionsInvalid(f"RegionsOfInterest can have at most {MAX_REGIONS} regions")
    regions = []
    for index, item in enumerate(raw):
        where = f"RegionsOfInterest[{index}]"
        has_box, has_polygon = "BoundingBox" in item, "Polygon" in item
        if has_box == has_polygon:
            raise RegionsInvalid(f"{where} must have exactly one of BoundingBox or Polygon")
        if has_box:
            box = item["BoundingBox"]
            left, top = (
                _ratio(box.get("Left"), f"{where}.BoundingBox.Left"),
                _ratio(box.get("Top"), f"{where}.BoundingBox.Top"),
            )
            width = _ratio(box.get("Width"), f"{where}.BoundingBox.Width")
            height = _ratio(box.get("Height"), f"{where}.BoundingBox.Height")
            if width <= 0 or height <= 0:
                raise RegionsInvalid(f"{where}.BoundingBox must have a width and a height above 0")
            right, bottom = left + width, top + height
            regions.append(Region(((left, top), (right, top), (right, bottom), (left, bottom))))
            continue
        polygon = item["Polygon"]
        if len(polygon) < MIN_POLYGON_POINTS:
            raise RegionsInvalid(f"{where}.Polygon must have at least {MIN_POLYGON_POINTS} points")
        points = tuple(
            (_ratio(p.get("X"), f"{where}.Polygon[{i}].X"), _ratio(p.get("Y"), f"{where}.Polygon[{i}].Y"))
            for i, p in enumerate(polygon)
        )
        if _area(points) <= 0:
            raise RegionsInvalid(f"{where}.Polygon encloses no area")
        regions.append(Region(points))
    return regions


def _area(points: Sequence[Point]) -> float:
    """Shoelace formula; either winding order."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


def _clip(points: Sequence[Point], inside: Any, cross: Any) -> list[Point]:
    """One Sutherland-Hodgman step: the polygon cut by one edge of the box."""
    kept: list[Point] = []
    if not points:
        return kept
    previous = points[-1]
    for current in points:
        if inside(current):
            if not inside(previous):
                kept.append(cross(previous, current))
            kept.append(current)
        elif inside(previous):
            kept.append(cross(previous, current))
        previous = current
    return kept


def _at_x(x: float) -> Any:
    def cross(a: Point, b: Point) -> Point:
        return (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))

    return cross


def _at_y(y: float) -> Any:
    def cross(a: Point, b: Point) -> Point:
        return (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)

    return cross


def overlap_area(region: Region, box: Box) -> float:
    """Area of `box` inside `region`. The region is clipped by the box (a convex
    rectangle), which is exact for any simple polygon, concave ones included."""
    left, top, right, bottom = box
    points: list[Point] = list(region.points)
    points = _clip(points, lambda p: p[0] >= left, _at_x(left))
    points = _clip(points, lambda p: p[0] <= right, _at_x(right))
    points = _clip(points, lambda p: p[1] >= top, _at_y(top))
    points = _clip(points, lambda p: p[1] <= bottom, _at_y(bottom))
    return _area(points) if len(points) >= MIN_POLYGON_POINTS else 0.0


def in_regions(box: Box, regions: Sequence[Region]) -> bool:
    """True when more than half of `box` lies in one of `regions` (or there are none)."""
    if not regions:
        return True
    left, top, right, bottom = box
    area = (right - left) * (bottom - top)
    if area <= 0:
        return False  # nothing of it can be more than half inside
    # Exactly half is not more than half, whatever the float rounding of the clipping.
    half = area * (0.5 + 1e-9)
    return any(overlap_area(region, box) > half for region in regions)

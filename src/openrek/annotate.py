"""`openrek annotate photo.jpg --out boxed.jpg`: draw what Rekognition sees.

Runs DetectFaces, DetectLabels and DetectText (any client with boto3's method
names: the in-process `openrek.Client` or a boto3 client against a server) and
draws faces, labels' instances and text lines on the photo, each with its name
and confidence. People would rather look than read JSON.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from PIL import Image, ImageDraw, ImageFont, ImageOps

FEATURES = ("faces", "labels", "text")
# One colour per kind of finding, readable on light and dark photos alike.
COLOURS = {"faces": (46, 204, 64), "labels": (255, 133, 27), "text": (0, 116, 217), "people": (240, 18, 190)}


@dataclass(frozen=True)
class Mark:
    """One thing to draw: a polygon in pixels and its caption."""

    kind: str
    points: list[tuple[float, float]]
    caption: str


def box_points(box: dict[str, float], width: int, height: int) -> list[tuple[float, float]]:
    left, top = box["Left"] * width, box["Top"] * height
    right, bottom = left + box["Width"] * width, top + box["Height"] * height
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def face_marks(response: dict[str, Any], width: int, height: int) -> list[Mark]:
    return [
        Mark("faces", box_points(face["BoundingBox"], width, height), f"Face {face['Confidence']:.0f}%")
        for face in response.get("FaceDetails", [])
    ]


def label_marks(response: dict[str, Any], width: int, height: int) -> list[Mark]:
    return [
        Mark(
            "labels",
            box_points(instance["BoundingBox"], width, height),
            f"{label['Name']} {instance['Confidence']:.0f}%",
        )
        for label in response.get("Labels", [])
        for instance in label.get("Instances", [])
    ]


def text_marks(response: dict[str, Any], width: int, height: int) -> list[Mark]:
    marks = []
    for found in response.get("TextDetections", []):
        if found["Type"] != "LINE":
            continue
        polygon = found["Geometry"].get("Polygon")
        points = (
            [(p["X"] * width, p["Y"] * height) for p in polygon]
            if polygon
            else box_points(found["Geometry"]["BoundingBox"], width, height)
        )
        marks.append(Mark("text", points, f"{found['DetectedText']} {found['Confidence']:.0f}%"))
    return marks


def draw(photo: Image.Image, marks: Iterable[Mark]) -> Image.Image:
    canvas = photo.convert("RGB")
    painter = ImageDraw.Draw(canvas)
    line = max(2, round(max(canvas.size) / 400))
    font = ImageFont.load_default(size=max(12, round(max(canvas.size) / 60)))
    for mark in marks:
        colour = COLOURS[mark.kind]
        painter.polygon(mark.points, outline=colour, width=line)
        left = min(x for x, _ in mark.points)
        top = min(y for _, y in mark.points)
        text_box = painter.textbbox((0, 0), mark.caption, font=font)
        text_height = text_box[3] - text_box[1] + 2 * line
        above = top - text_height if top >= text_height else top
        painter.rectangle(
            (left, above, left + text_box[2] - text_box[0] + 2 * line, above + text_height), fill=colour
        )
        painter.text((left + line, above + line - text_box[1]), mark.caption, fill="white", font=font)
    return canvas


def annotate(
    client: Any,
    image_bytes: bytes,
    features: Iterable[str] = FEATURES,
    min_confidence: float = 55.0,
    warn: Callable[[str], None] = lambda _message: None,
) -> tuple[Image.Image, dict[str, Any]]:
    """The annotated photo and the responses it was drawn from, by feature.

    A feature whose operation fails (for example its models are not installed) is
    skipped with a warning; the others are still drawn.
    """
    # Rekognition reports boxes on the photo as it is displayed (EXIF orientation applied).
    photo = ImageOps.exif_transpose(Image.open(io.BytesIO(image_bytes)))
    width, height = photo.size
    calls: dict[str, tuple[Callable[..., dict[str, Any]], dict[str, Any], Callable[..., list[Mark]]]] = {
        "faces": (client.detect_faces, {}, face_marks),
        "labels": (client.detect_labels, {"MinConfidence": min_confidence}, label_marks),
        "text": (client.detect_text, {}, text_marks),
    }
    marks: list[Mark] = []
    responses: dict[str, Any] = {}
    # Labels first, faces last: a face is drawn over the label boxes around it.
    features = sorted(set(features), key=("labels", "text", "faces").index)
    for feature in features:
        operation, params, to_marks = calls[feature]
        try:
            response = operation(Image={"Bytes": image_bytes}, **params)
        except ClientError as error:
            warn(f"{feature}: {error.response['Error']['Code']}: {error.response['Error']['Message']}")
            continue
        response.pop("ResponseMetadata", None)
        responses[feature] = response
        marks.extend(to_marks(response, width, height))
    if "faces" in responses:
        # DetectLabels' "Face" instances are the faces DetectFaces already drew.
        marks = [m for m in marks if not (m.kind == "labels" and m.caption.startswith("Face "))]
    return draw(photo, marks), responses

"""SageMaker Ground Truth manifest lines, as Custom Labels reads them.

One JSON object per line: `source-ref` (an s3:// URI of the image) and label
attributes, each `<name>` with a `<name>-metadata` object whose `type` says the
format:

- `groundtruth/image-classification`: the value is a class number, the metadata's
  `class-name` its name (one image-level label);
- `groundtruth/image-classification-multilabel`: the value is a list of class numbers,
  named by the metadata's `class-map` (several image-level labels);
- `groundtruth/object-detection`: the value holds `image_size` and `annotations`
  (boxes in pixels: `class_id`, `left`, `top`, `width`, `height`), named by `class-map`.

A content-moderation adapter's line has no metadata: `content-moderation-groundtruth`
is `{"ModerationLabels": [{"Name": <top-level category>}, ...]}`, an empty list for
an image with no unsafe content (which is a label too: "nothing here").

A line that cannot be read is kept with its reasons (it counts in ErrorEntries); it
never stops the rest of the manifest from being read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from openrek.inference.moderation.taxonomy import TOP_LEVEL_CATEGORIES

CLASSIFICATION = "groundtruth/image-classification"
MULTILABEL = "groundtruth/image-classification-multilabel"
DETECTION = "groundtruth/object-detection"
MODERATION = "content-moderation-groundtruth"
MAX_LINE_CHARS = 100_000
NOT_OBJECT = "The line is not a JSON object"  # DatasetEntry's limit in the service model


@dataclass(frozen=True)
class Box:
    """An object's box, in pixels of the image the annotator saw."""

    label: str
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Entry:
    line: str
    source_ref: str | None
    labels: tuple[str, ...]  # image-level labels
    boxes: tuple[Box, ...]
    image_size: tuple[int, int] | None  # (width, height) of a bounding-box attribute
    has_box_attribute: bool  # labelled for detection, even with no objects in it
    errors: tuple[str, ...]
    # labelled for a moderation adapter, even with no unsafe content in it
    has_moderation_attribute: bool = False

    @property
    def labeled(self) -> bool:
        return bool(self.labels) or self.has_box_attribute or self.has_moderation_attribute

    @property
    def all_labels(self) -> tuple[str, ...]:
        names = list(self.labels) + [box.label for box in self.boxes]
        return tuple(dict.fromkeys(names))

    @property
    def usable(self) -> bool:
        return not self.errors and self.source_ref is not None

    @property
    def listed(self) -> str:
        """The entry as ListDatasetEntries gives it: a JSON object line. A line that is
        not one is wrapped, with its reasons, so the caller can still find and fix it."""
        if self.line.startswith("{") and self.line.endswith("}") and self.errors[:1] != (NOT_OBJECT,):
            return self.line
        return json.dumps({"invalid-line": self.line, "errors": list(self.errors)})

    def bucket_and_key(self) -> tuple[str, str]:
        assert self.source_ref is not None
        bucket, _, key = self.source_ref.removeprefix("s3://").partition("/")
        return bucket, key


def _error(line: str, reason: str, source_ref: str | None = None) -> Entry:
    return Entry(line, source_ref, (), (), None, False, (reason,))


def parse_line(line: str) -> Entry:
    if len(line) > MAX_LINE_CHARS:
        return _error(line[:MAX_LINE_CHARS], f"The line is longer than {MAX_LINE_CHARS} characters")
    try:
        record = json.loads(line)
    except ValueError:
        return _error(line, NOT_OBJECT)
    if not isinstance(record, dict):
        return _error(line, NOT_OBJECT)
    source_ref = record.get("source-ref")
    if not isinstance(source_ref, str) or not source_ref.startswith("s3://"):
        return _error(line, "source-ref is missing or is not an s3:// URI")
    bucket, _, key = source_ref.removeprefix("s3://").partition("/")
    if not bucket or not key:
        return _error(line, "source-ref must name a bucket and a key", source_ref)
    labels: list[str] = []
    boxes: list[Box] = []
    errors: list[str] = []
    image_size: tuple[int, int] | None = None
    has_boxes = False
    moderation = MODERATION in record
    if moderation:
        try:
            labels.extend(_moderation_names(record[MODERATION]))
        except _Malformed as why:
            errors.append(f"{MODERATION}: {why}")
    for name, value in record.items():
        metadata = record.get(f"{name}-metadata")
        if name == "source-ref" or name.endswith("-metadata") or not isinstance(metadata, dict):
            continue
        kind = metadata.get("type")
        try:
            if kind == CLASSIFICATION:
                labels.append(_class_name(value, metadata))
            elif kind == MULTILABEL:
                labels.extend(_multilabel_names(value, metadata))
            elif kind == DETECTION:
                has_boxes = True
                size, found = _boxes(value, metadata)
                image_size = image_size or size
                boxes.extend(found)
            else:
                errors.append(f"{name}-metadata has an unknown type {kind!r}")
        except _Malformed as why:
            errors.append(f"{name}: {why}")
    return Entry(
        line,
        source_ref,
        tuple(dict.fromkeys(labels)),
        tuple(boxes),
        image_size,
        has_boxes,
        tuple(errors),
        moderation,
    )


class _Malformed(ValueError):
    pass


def _moderation_names(value: Any) -> list[str]:
    if not isinstance(value, dict) or not isinstance(value.get("ModerationLabels"), list):
        raise _Malformed("ModerationLabels is missing or not a list")
    names = []
    for label in value["ModerationLabels"]:
        name = label.get("Name") if isinstance(label, dict) else None
        if name not in TOP_LEVEL_CATEGORIES:
            # AWS trains adapters on top-level categories only; a deeper or unknown name
            # would be silently dropped there, so it is an error entry here.
            raise _Malformed(
                f"{name!r} is not a top-level moderation category ({', '.join(TOP_LEVEL_CATEGORIES)})"
            )
        names.append(name)
    return names


def _label_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Malformed("a class name is missing or empty")
    return value


def _class_name(value: Any, metadata: dict[str, Any]) -> str:
    if "class-name" not in metadata:
        raise _Malformed("class-name is missing")
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Malformed("the class value is not a whole number")
    return _label_text(metadata.get("class-name"))


def _class_map(metadata: dict[str, Any]) -> dict[str, Any]:
    class_map = metadata.get("class-map")
    if not isinstance(class_map, dict) or not class_map:
        raise _Malformed("class-map is missing")
    return class_map


def _multilabel_names(value: Any, metadata: dict[str, Any]) -> list[str]:
    class_map = _class_map(metadata)
    if not isinstance(value, list):
        raise _Malformed("the value of a multi-label attribute is not a list")
    names = []
    for number in value:
        if str(number) not in class_map:
            raise _Malformed(f"class {number!r} is not in class-map")
        names.append(_label_text(class_map[str(number)]))
    return names


def _number(annotation: dict[str, Any], field: str) -> float:
    value = annotation.get(field)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _Malformed(f"an annotation's {field} is missing or not a number")
    return float(value)


def _boxes(value: Any, metadata: dict[str, Any]) -> tuple[tuple[int, int], list[Box]]:
    if not isinstance(value, dict):
        raise _Malformed("the bounding-box attribute is not an object")
    # An image with no objects in it may come without a class-map.
    class_map = _class_map(metadata) if value.get("annotations") else {}
    sizes = value.get("image_size")
    if not isinstance(sizes, list) or not sizes or not isinstance(sizes[0], dict):
        raise _Malformed("image_size is missing")
    width, height = sizes[0].get("width"), sizes[0].get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        raise _Malformed("image_size has no positive width and height")
    annotations = value.get("annotations")
    if not isinstance(annotations, list):
        raise _Malformed("annotations is missing")
    boxes = []
    for annotation in annotations:
        if not isinstance(annotation, dict):
            raise _Malformed("an annotation is not an object")
        class_id = annotation.get("class_id")
        if str(class_id) not in class_map:
            raise _Malformed(f"class_id {class_id!r} is not in class-map")
        left, top = _number(annotation, "left"), _number(annotation, "top")
        box_width, box_height = _number(annotation, "width"), _number(annotation, "height")
        if box_width <= 0 or box_height <= 0:
            raise _Malformed("a box has no area")
        if left < 0 or top < 0 or left + box_width > width + 1 or top + box_height > height + 1:
            raise _Malformed("a box lies outside image_size")
        boxes.append(Box(_label_text(class_map[str(class_id)]), left, top, box_width, box_height))
    return (width, height), boxes


def parse_manifest(text: str) -> list[Entry]:
    """Every non-blank line, in order."""
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def classification_line(source_ref: str, label: str, job: str = "openrek") -> str:
    """A Ground Truth image-classification line (what `custom-labels train` writes)."""
    record = {
        "source-ref": source_ref,
        job: 1,
        f"{job}-metadata": {
            "confidence": 1,
            "class-name": label,
            "human-annotated": "yes",
            "type": CLASSIFICATION,
            "job-name": f"labeling-job/{job}",
        },
    }
    return json.dumps(record)


def moderation_line(source_ref: str, labels: list[str]) -> str:
    """A content-moderation adapter's manifest line (labels: top-level categories, or
    none for an image with no unsafe content)."""
    return json.dumps(
        {"source-ref": source_ref, MODERATION: {"ModerationLabels": [{"Name": n} for n in labels]}}
    )


def detection_line(
    source_ref: str, size: tuple[int, int], boxes: list[Box], job: str = "bounding-box"
) -> str:
    """A Ground Truth object-detection line."""
    names = sorted({box.label for box in boxes})
    ids = {name: index for index, name in enumerate(names)}
    record = {
        "source-ref": source_ref,
        job: {
            "image_size": [{"width": size[0], "height": size[1], "depth": 3}],
            "annotations": [
                {
                    "class_id": ids[box.label],
                    "left": round(box.left),
                    "top": round(box.top),
                    "width": round(box.width),
                    "height": round(box.height),
                }
                for box in boxes
            ],
        },
        f"{job}-metadata": {
            "objects": [{"confidence": 1} for _ in boxes],
            "class-map": {str(index): name for name, index in ids.items()},
            "type": DETECTION,
            "human-annotated": "yes",
            "job-name": f"labeling-job/{job}",
        },
    }
    return json.dumps(record)

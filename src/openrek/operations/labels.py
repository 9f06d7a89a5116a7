"""DetectLabels: GENERAL_LABELS (classifier + object detector + faces, see
openrek.inference.labels.labeler) and IMAGE_PROPERTIES (quality and colours)."""

from __future__ import annotations

from typing import Any

import numpy as np

from openrek.inference.labels.labeler import DetectedLabel, LabelInstance
from openrek.inference.labels.taxonomy import Taxonomy
from openrek.operations.image_properties import dominant_colors_shape, image_properties_shape
from openrek.protocol.dispatch import Handler
from openrek.protocol.errors import InvalidParameterException
from openrek.services import Services

GENERAL_LABELS = "GENERAL_LABELS"
IMAGE_PROPERTIES = "IMAGE_PROPERTIES"
DEFAULT_MIN_CONFIDENCE = 55.0
DEFAULT_MAX_LABELS = 1000
DEFAULT_MAX_DOMINANT_COLORS = 10
# openrek's model set (classifier, detector, vocabulary), reported where Rekognition
# reports the version of its label models.
LABEL_MODEL_VERSION = "3.0"


def _features(params: dict[str, Any]) -> set[str]:
    """Features asked for (GENERAL_LABELS when none). Settings of a feature that is not
    asked for are ignored: AWS documents the Settings as usable with either feature."""
    return set(params.get("Features") or [GENERAL_LABELS])


class LabelFilter:
    """Settings.GeneralLabels: a label is kept when it passes the inclusion filters (its
    name, or one of its categories, is listed; no inclusion filter lets everything
    through) and no exclusion filter names it or one of its categories. Names match
    exactly, as Rekognition spells them ("Cat", "Animals and Pets"); a name no label
    carries simply matches nothing. Listing the same label, or the same category, as
    both included and excluded is contradictory and refused."""

    def __init__(self, settings: dict[str, Any], taxonomy: Taxonomy) -> None:
        self.include = set(settings.get("LabelInclusionFilters") or [])
        self.exclude = set(settings.get("LabelExclusionFilters") or [])
        self.include_categories = set(settings.get("LabelCategoryInclusionFilters") or [])
        self.exclude_categories = set(settings.get("LabelCategoryExclusionFilters") or [])
        self.taxonomy = taxonomy
        for both, what in (
            (self.include & self.exclude, "labels"),
            (self.include_categories & self.exclude_categories, "label categories"),
        ):
            if both:
                raise InvalidParameterException(
                    f"The same {what} cannot be both included and excluded: {', '.join(sorted(both))}"
                )

    def keeps(self, name: str) -> bool:
        categories = set(self.taxonomy.categories_of(name))
        if (self.include or self.include_categories) and not (
            name in self.include or categories & self.include_categories
        ):
            return False
        return name not in self.exclude and not categories & self.exclude_categories


def _bounding_box(box: tuple[float, float, float, float], width: int, height: int) -> dict[str, float]:
    x1, y1, x2, y2 = (float(np.clip(v, 0, limit)) for v, limit in zip(box, (width, height) * 2, strict=True))
    return {"Width": (x2 - x1) / width, "Height": (y2 - y1) / height, "Left": x1 / width, "Top": y1 / height}


def _instance(instance: LabelInstance, rgb: np.ndarray, max_colors: int | None) -> dict[str, Any]:
    height, width = rgb.shape[:2]
    shaped: dict[str, Any] = {
        "BoundingBox": _bounding_box(instance.box, width, height),
        "Confidence": instance.confidence * 100.0,
    }
    if max_colors is not None:
        from openrek.inference.labels.image_properties import dominant_colors

        x1, y1, x2, y2 = (round(v) for v in instance.box)
        region = rgb[max(y1, 0) : max(y2, y1 + 1), max(x1, 0) : max(x2, x1 + 1)]
        shaped["DominantColors"] = dominant_colors_shape(dominant_colors(region, max_colors))
    return shaped


def _label(
    label: DetectedLabel, taxonomy: Taxonomy, rgb: np.ndarray, min_confidence: float, max_colors: int | None
) -> dict[str, Any]:
    concept = taxonomy.concepts[label.name]
    return {
        "Name": label.name,
        "Confidence": label.confidence * 100.0,
        "Instances": [
            _instance(i, rgb, max_colors) for i in label.instances if i.confidence * 100.0 >= min_confidence
        ],
        "Parents": [{"Name": parent} for parent in taxonomy.ancestors[label.name]],
        "Aliases": [{"Name": alias} for alias in concept.aliases],
        "Categories": [{"Name": category} for category in taxonomy.categories_of(label.name)],
    }


def label_filter_of(params: dict[str, Any], services: Services) -> LabelFilter:
    """Settings.GeneralLabels of a request; raises InvalidParameterException as DetectLabels does."""
    settings = params.get("Settings") or {}
    return LabelFilter(settings.get("GeneralLabels") or {}, services.labeler.taxonomy)


def general_labels(
    rgb: np.ndarray,
    label_filter: LabelFilter,
    min_confidence: float,
    services: Services,
    max_labels: int = DEFAULT_MAX_LABELS,
    instance_colors: int | None = None,
) -> list[dict[str, Any]]:
    """The GENERAL_LABELS of one picture (a photo, or a frame of a video), as DetectLabels
    answers them."""
    labeler = services.labeler
    kept = [
        label
        for label in labeler.labels(rgb)
        if label.confidence * 100.0 >= min_confidence and label_filter.keeps(label.name)
    ][:max_labels]
    return [_label(label, labeler.taxonomy, rgb, min_confidence, instance_colors) for label in kept]


def detect_labels(params: dict[str, Any], services: Services) -> dict[str, Any]:
    features = _features(params)
    settings = params.get("Settings") or {}
    labeler = services.labeler if GENERAL_LABELS in features else None
    label_filter = (
        LabelFilter(settings.get("GeneralLabels") or {}, labeler.taxonomy) if labeler is not None else None
    )
    image = services.load_image(params["Image"])
    max_colors = int(
        (settings.get("ImageProperties") or {}).get("MaxDominantColors", DEFAULT_MAX_DOMINANT_COLORS)
    )
    response: dict[str, Any] = {}
    if labeler is not None and label_filter is not None:
        response["Labels"] = general_labels(
            image.rgb,
            label_filter,
            float(params.get("MinConfidence", DEFAULT_MIN_CONFIDENCE)),
            services,
            max_labels=int(params.get("MaxLabels", DEFAULT_MAX_LABELS)),
            instance_colors=max_colors if IMAGE_PROPERTIES in features else None,
        )
    if IMAGE_PROPERTIES in features:
        from openrek.inference.labels.image_properties import image_properties

        response["ImageProperties"] = image_properties_shape(image_properties(image.rgb, max_colors))
    response["LabelModelVersion"] = LABEL_MODEL_VERSION
    return response


HANDLERS: dict[str, Handler[Services]] = {"DetectLabels": detect_labels}

"""Rekognition's moderation taxonomy (model version 7) and how model outputs map onto it.

Only the three top-level categories that the registry models can see are listed:
the nudity-related part of the v7 taxonomy, names exactly as Rekognition spells
them. Violence, weapons, drugs, tobacco, alcohol, gambling, hate symbols, rude
gestures and visually disturbing content have no model here and are never reported
(docs/moderation.md).

The mapping, from `Evidence` (every model's output on one image) to label confidences:

- The two default models vote through a logarithmic opinion pool (the normalised
  geometric mean of their probabilities): pool(a, b) = sqrt(ab) / (sqrt(ab) +
  sqrt((1-a)(1-b))). Unlike an average, one model alone cannot carry a label: on the
  safe eval photos nsfwjs says Porn 0.96 for a shop sign and Sexy 0.89 for a man in
  a T-shirt while open_nsfw stays under 0.04 (bench/results/moderation_false_positives.md).
- Explicit = pool(nsfwjs Porn + Hentai, open_nsfw P(NSFW)): both models were trained
  to separate pornography (photos and drawings) from the rest. Neither tells nudity
  from sexual activity, so the level-2 labels under Explicit come only from NudeNet's
  body-part regions (opt-in).
- nsfwjs's Sexy (revealing, sexualised, not pornographic) is what Rekognition 6.1
  called Suggestive, which 7.0 split in two top-level categories. nsfwjs's classes
  exclude each other, and open_nsfw's P(NSFW) is already spent on Explicit when the
  image is pornographic, so the suggestive evidence is S = pool(Sexy, P(NSFW)) x
  (1 - Explicit): suggestive and not explicit. S is split by how much nudity
  open_nsfw sees:
  S x P(NSFW) -> "Non-Explicit Nudity of Intimate parts and Kissing",
  S x (1 - P(NSFW)) -> "Swimwear or Underwear" (bikinis and lingerie, the bulk of
  nsfwjs's Sexy class). Only the top level is reported: neither model names the
  body part or the wearer's sex.
- NudeNet (opt-in) regions give level-3 labels (exposed genitalia, buttocks or
  anus, female nipple; exposed male nipple; covered female genitalia as female
  swimwear or underwear), each with the best detection score of its classes.
- A label's ancestors are reported with it, at the highest confidence among the
  label and its reported descendants, as Rekognition does.
- ContentTypes: nsfwjs's Drawing + Hentai -> "Illustrated". Nothing tells
  animation from illustration, so "Animated" is never reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

MODEL_VERSION = "7.0"

EXPLICIT = "Explicit"
NON_EXPLICIT = "Non-Explicit Nudity of Intimate parts and Kissing"
SWIMWEAR = "Swimwear or Underwear"

# name -> parent name ("" at the top level), for the categories openrek can detect
PARENTS: dict[str, str] = {
    EXPLICIT: "",
    "Explicit Nudity": EXPLICIT,
    "Exposed Male Genitalia": "Explicit Nudity",
    "Exposed Female Genitalia": "Explicit Nudity",
    "Exposed Buttocks or Anus": "Explicit Nudity",
    "Exposed Female Nipple": "Explicit Nudity",
    NON_EXPLICIT: "",
    "Non-Explicit Nudity": NON_EXPLICIT,
    "Exposed Male Nipple": "Non-Explicit Nudity",
    SWIMWEAR: "",
    "Female Swimwear or Underwear": SWIMWEAR,
}

# Every top-level category of the v7 taxonomy, detected or not: the names a content-
# moderation adapter's manifest may use (AWS's adapters take top-level categories only).
TOP_LEVEL_CATEGORIES = (
    EXPLICIT,
    NON_EXPLICIT,
    SWIMWEAR,
    "Violence",
    "Visually Disturbing",
    "Drugs & Tobacco",
    "Alcohol",
    "Rude Gestures",
    "Gambling",
    "Hate Symbols",
)

NSFWJS_CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
CONTENT_TYPES = ("Illustrated",)  # what nsfwjs's classes tell; "Animated" is never told

# NudeNet class -> the v7 label its region is evidence of. Classes not listed (faces,
# feet, belly, armpits, covered breasts or buttocks) are not moderation categories.
NUDENET_LABELS: dict[str, str] = {
    "MALE_GENITALIA_EXPOSED": "Exposed Male Genitalia",
    "FEMALE_GENITALIA_EXPOSED": "Exposed Female Genitalia",
    "BUTTOCKS_EXPOSED": "Exposed Buttocks or Anus",
    "ANUS_EXPOSED": "Exposed Buttocks or Anus",
    "FEMALE_BREAST_EXPOSED": "Exposed Female Nipple",
    "MALE_BREAST_EXPOSED": "Exposed Male Nipple",
    "FEMALE_GENITALIA_COVERED": "Female Swimwear or Underwear",
}


def level(name: str) -> int:
    """TaxonomyLevel: 1 for a top-level category, 2 below it, 3 below that."""
    depth = 1
    while PARENTS[name]:
        name = PARENTS[name]
        depth += 1
    return depth


@dataclass(frozen=True)
class Evidence:
    """What the models say about one image, each as a probability in [0, 1]."""

    open_nsfw: float  # open_nsfw's P(NSFW)
    nsfwjs: Mapping[str, float]  # the five nsfwjs classes
    # NudeNet class -> best detection score; empty when NudeNet is not installed
    regions: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if set(self.nsfwjs) != set(NSFWJS_CLASSES):
            raise ValueError(f"nsfwjs scores are for {', '.join(NSFWJS_CLASSES)}, not {sorted(self.nsfwjs)}")
        scores = {"open_nsfw": self.open_nsfw, **self.nsfwjs, **self.regions}
        for name, score in scores.items():
            _check_probability(name, score)


@dataclass(frozen=True)
class ModerationScore:
    """How sure the models are that an image shows one label of the taxonomy."""

    name: str  # a key of PARENTS
    score: float  # 0-1

    def __post_init__(self) -> None:
        if self.name not in PARENTS:
            raise ValueError(f"{self.name!r} is not a moderation label openrek detects")
        _check_probability(self.name, self.score)

    @property
    def parent(self) -> str:
        """The parent label's name, "" at the top level."""
        return PARENTS[self.name]

    @property
    def level(self) -> int:
        return level(self.name)


@dataclass(frozen=True)
class ContentTypeScore:
    name: str  # one of CONTENT_TYPES
    score: float  # 0-1

    def __post_init__(self) -> None:
        if self.name not in CONTENT_TYPES:
            raise ValueError(f"{self.name!r} is not a content type openrek detects")
        _check_probability(self.name, self.score)


def _check_probability(name: str, score: float) -> None:
    if not 0.0 <= score <= 1.0:  # also refuses NaN
        raise ValueError(f"the score of {name} is {score}, not a probability")


def _with_ancestors(direct: Mapping[str, float]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for name, score in direct.items():
        while name:
            scores[name] = max(scores.get(name, 0.0), score)
            name = PARENTS[name]
    return scores


def pool(a: float, b: float) -> float:
    """Logarithmic opinion pool of two probabilities (normalised geometric mean)."""
    a, b = min(max(a, 0.0), 1.0), min(max(b, 0.0), 1.0)
    yes, no = math.sqrt(a * b), math.sqrt((1 - a) * (1 - b))
    return yes / (yes + no) if yes + no > 0 else 0.5


def label_scores(evidence: Evidence) -> list[ModerationScore]:
    """Every label with its confidence, ancestors included."""
    p = evidence.nsfwjs
    nudity = evidence.open_nsfw
    explicit = pool(p["Porn"] + p["Hentai"], nudity)
    suggestive = pool(p["Sexy"], nudity) * (1 - explicit)
    direct = {
        EXPLICIT: explicit,
        NON_EXPLICIT: suggestive * nudity,
        SWIMWEAR: suggestive * (1 - nudity),
    }
    for nudenet_class, score in evidence.regions.items():
        label = NUDENET_LABELS.get(nudenet_class)
        if label is not None:
            direct[label] = max(direct.get(label, 0.0), score)
    return [ModerationScore(name, score) for name, score in _with_ancestors(direct).items()]


def content_type_scores(evidence: Evidence) -> list[ContentTypeScore]:
    # Two float32 softmax outputs can add up to a hair over 1.
    illustrated = min(evidence.nsfwjs["Drawing"] + evidence.nsfwjs["Hentai"], 1.0)
    return [ContentTypeScore("Illustrated", illustrated)]

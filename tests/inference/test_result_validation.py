"""The analysers' result types refuse values outside their ranges and shapes: a bug
upstream fails where it happens, not as a strange number in a response."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from openrek.inference.labels.labeler import DetectedLabel, LabelInstance
from openrek.inference.labels.measurements import DominantColor, ImageProperties, Quality, RegionProperties
from openrek.inference.moderation.taxonomy import NSFWJS_CLASSES, ContentTypeScore, Evidence, ModerationScore
from openrek.inference.ppe.findings import FACE, FACE_COVER, HEAD, BodyPart, Equipment, Person, certainty
from openrek.inference.text.reader import Line, Word
from openrek.operations.moderation import as_percent
from openrek.operations.ppe_summary import reported_confidence

BOX = np.array([1.0, 2.0, 5.0, 8.0], np.float32)
QUAD = np.array([[0, 0], [10, 0], [10, 4], [0, 4]], np.float32)
NSFWJS = dict.fromkeys(NSFWJS_CLASSES, 0.2)
WHITE = DominantColor("white", (255, 255, 255), "white", 0.5)
WHOLE = Quality(0.5, 0.5, 0.5)
PART = RegionProperties(Quality(0.5, 0.5), (WHITE,))


def test_valid_results_are_accepted() -> None:
    LabelInstance((0.0, 0.0, 3.0, 4.0), 1.0)
    DetectedLabel("Cat", 0.0, (LabelInstance((-2.0, 0.0, 3.0, 4.0), 0.5),))
    ImageProperties(WHOLE, (WHITE,), PART, PART)
    Evidence(0.0, NSFWJS, {"FACE_FEMALE": 1.0})
    ModerationScore("Explicit Nudity", 0.3)
    ContentTypeScore("Illustrated", 1.0)
    part = BodyPart(FACE, BOX, 0.0, (Equipment(FACE_COVER, BOX, 0.9, True, 0.9),))
    Person(BOX, 1.0, (part, BodyPart(HEAD, BOX, 0.5)))
    Line("a b", 0.9, QUAD, (Word("a", 0.9, QUAD), Word("b", 1.0, QUAD)))
    assert WHITE.hex_code == "#ffffff"


@pytest.mark.parametrize(
    "build",
    [
        # labels
        lambda: LabelInstance((0.0, 0.0, 3.0, 4.0), 1.01),
        lambda: LabelInstance((0.0, 0.0, 3.0, 4.0), float("nan")),
        lambda: LabelInstance((3.0, 0.0, 1.0, 4.0), 0.5),  # x2 < x1
        lambda: LabelInstance((0.0, 0.0, float("inf"), 4.0), 0.5),
        lambda: DetectedLabel("Cat", -0.1),
        lambda: DetectedLabel("", 0.5),
        # image properties
        lambda: DominantColor("notacolour", (1, 2, 3), "white", 0.5),
        lambda: DominantColor("white", (255, 255, 256), "white", 0.5),
        lambda: DominantColor("white", (255, 255, 255), "beige", 0.5),
        lambda: DominantColor("white", (255, 255, 255), "white", 0.0),
        lambda: DominantColor("white", (255, 255, 255), "white", 1.5),
        lambda: Quality(1.2, 0.5),
        lambda: Quality(0.5, -0.5),
        lambda: Quality(0.5, 0.5, 101.0),  # a percentage where a fraction belongs
        lambda: RegionProperties(WHOLE, ()),  # contrast is for the whole image
        lambda: ImageProperties(Quality(0.5, 0.5), ()),  # ... and the whole image has one
        lambda: ImageProperties(WHOLE, (), PART, None),  # a foreground without a background
        # moderation
        lambda: Evidence(1.5, NSFWJS),
        lambda: Evidence(0.5, {**NSFWJS, "Porn": -0.1}),
        lambda: Evidence(0.5, {"Porn": 0.9}),  # classes missing
        lambda: Evidence(0.5, NSFWJS, {"FACE_FEMALE": 2.0}),
        lambda: ModerationScore("Violence", 0.5),  # no model for it here
        lambda: ModerationScore("Explicit", 100.0),
        lambda: ContentTypeScore("Animated", 0.5),
        lambda: ContentTypeScore("Illustrated", float("nan")),
        # protective equipment
        lambda: Equipment("GLOVES", BOX, 0.5, True, 0.5),
        lambda: Equipment(FACE_COVER, BOX, 75.0, True, 0.5),  # AWS's band, not a certainty
        lambda: Equipment(FACE_COVER, BOX, 0.5, True, 1.5),
        lambda: Equipment(FACE_COVER, np.array([5.0, 0.0, 1.0, 4.0]), 0.5, True, 0.5),
        lambda: BodyPart("KNEE", BOX, 0.5),
        lambda: BodyPart(HEAD, BOX[:3], 0.5),
        lambda: BodyPart(HEAD, BOX, 0.5, (Equipment(FACE_COVER, BOX, 0.5, True, 0.5),)),  # worn elsewhere
        lambda: Person(BOX, -0.5, ()),
        lambda: Person(BOX, 0.5, (BodyPart(HEAD, BOX, 0.5), BodyPart(HEAD, BOX, 0.6))),
        # text
        lambda: Word("", 0.5, QUAD),
        lambda: Word("a", 1.5, QUAD),
        lambda: Word("a", 0.5, QUAD[:3]),
        lambda: Line("a", 0.5, QUAD, ()),
    ],
)
def test_invalid_results_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        build()


def test_certainty_and_its_reported_band() -> None:
    """A score at the model's floor is reported at 50, a sure one at 100, nothing outside."""
    assert certainty(0.6, 0.6) == 0.0 and certainty(0.2, 0.6) == 0.0
    assert certainty(1.0, 0.6) == 1.0 and certainty(1.3, 0.6) == 1.0
    assert certainty(0.8, 0.6) == pytest.approx(0.5)
    assert reported_confidence(0.0) == 50.0 and reported_confidence(1.0) == 100.0
    # An item a classifier finds at p >= 0.5 is reported at exactly 100 p, as before.
    for p in np.array([0.5, 0.73, 0.9131, 1.0], dtype=np.float32):
        assert reported_confidence(certainty(float(p), 0.5)) == float(p) * 100.0


def test_moderation_percent_is_float32_and_clipped() -> None:
    assert as_percent(0.123456789) == float(np.float32(12.3456789))
    assert as_percent(1.2) == 100.0 and as_percent(-0.1) == 0.0

"""ProtectiveEquipmentSummary and the confidences it judges by.

Rekognition reports PPE detections only from 50%: the inspector's certainties (0 at
a model's working threshold, 1 when sure) are reported on that 50-100 band.

The summary says who wears the required equipment, who does not, and who cannot be
judged, by the rules of Rekognition's developer guide
("Understanding the DetectProtectiveEquipment response"):

- with: person, body parts and equipment at or above MinConfidence, every required
  item found and CoversBodyPart true (at or above MinConfidence too);
- without: person and body part confident, and a required item is absent, or is
  confidently found not covering its body part;
- indeterminate: the person, a required body part, a required item or its
  coverage falls below MinConfidence; a required body part that is not seen
  at all cannot be judged either.

Where one required item is certainly missing and another cannot be judged, the
person is certainly not wearing everything required: "without" wins.

An equipment type the inspector cannot rule out (it has no model for it, see
`Inspector.determinable`) is never "absent": a person it is required for is
indeterminate unless something else is certainly missing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import Enum

from openrek.inference.ppe.findings import COVERED_PARTS, Person

# Rekognition reports only predictions it is at least 50% sure of.
REPORTED_MINIMUM = 50.0


def reported_confidence(certainty: float) -> float:
    """An inspector certainty on Rekognition's reporting band: 0 -> 50, 1 -> 100."""
    return REPORTED_MINIMUM + 50.0 * certainty


class Verdict(Enum):
    WORN = "worn"
    MISSING = "missing"
    UNKNOWN = "unknown"


def item_verdict(person: Person, kind: str, threshold: float, determinable: bool) -> Verdict:
    """Whether `person` wears equipment `kind` on every body part it belongs on."""
    verdicts = []
    for name in COVERED_PARTS[kind]:
        part = person.part(name)
        if part is None or reported_confidence(part.confidence) < threshold:
            verdicts.append(Verdict.UNKNOWN)
            continue
        items = [e for e in part.equipment if e.kind == kind]
        confident = [
            e
            for e in items
            if reported_confidence(e.confidence) >= threshold
            and reported_confidence(e.covers_confidence) >= threshold
        ]
        if any(e.covers for e in confident):
            verdicts.append(Verdict.WORN)
        elif confident:  # found, but confidently not on the body part
            verdicts.append(Verdict.MISSING)
        elif items or not determinable:
            verdicts.append(Verdict.UNKNOWN)
        else:
            verdicts.append(Verdict.MISSING)
    if Verdict.MISSING in verdicts:
        return Verdict.MISSING
    return Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts else Verdict.WORN


def summarize(
    persons: Sequence[Person],
    required: Collection[str],
    min_confidence: float,
    determinable: Collection[str],
) -> dict[str, list[int]]:
    """Person Ids (their index in `persons`) sorted into the three summary lists."""
    # Nothing under 50% is ever reported, so a lower MinConfidence acts as 50.
    threshold = max(float(min_confidence), REPORTED_MINIMUM)
    summary: dict[str, list[int]] = {
        "PersonsWithRequiredEquipment": [],
        "PersonsWithoutRequiredEquipment": [],
        "PersonsIndeterminate": [],
    }
    for person_id, person in enumerate(persons):
        if reported_confidence(person.confidence) < threshold:
            summary["PersonsIndeterminate"].append(person_id)
            continue
        verdicts = {item_verdict(person, kind, threshold, kind in determinable) for kind in set(required)}
        if Verdict.MISSING in verdicts:
            summary["PersonsWithoutRequiredEquipment"].append(person_id)
        elif Verdict.UNKNOWN in verdicts:
            summary["PersonsIndeterminate"].append(person_id)
        else:
            summary["PersonsWithRequiredEquipment"].append(person_id)
    return summary

"""From a capture's measurements to AWS's answer: Status, Confidence, Feedback.

FAILED: the challenge was not run, so nothing can be said (too few frames with a face,
flashes reported out of their order, the face never moved closer or never reached the
oval). A still photo in front of the camera ends here.

SUCCEEDED: the challenge was run; Confidence (0-100) says how live the face looked.
It is the product of two probabilities, each a logistic curve over one measured signal,
placed between what live captures and attacks measured (bench/liveness.py, results in
bench/results/liveness.md and docs/liveness.md):

- the face is not a flat picture: `signals.non_planarity`;
- the face reflected this session's flashes: `signals.flash_response` (correlation
  and gain), for FaceMovementAndLightChallenge only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from openrek.liveness import signals
from openrek.liveness.challenge import OVAL_ASPECT, Challenge
from openrek.liveness.signals import FrameMeasure
from openrek.liveness.store import FAILED, SUCCEEDED

MIN_FRAMES_WITH_FACE = 12
MIN_FACE_SHARE = 0.7  # of the frames sent
# The approach: the face at the end at least this much wider than at the start, at
# least this share of the oval's width, its centre inside the oval.
MIN_GROWTH = 1.25
MIN_OVAL_FILL = 0.7
# Logistic curves: (centre, width), set on the tuning run of bench/liveness.py (seed 16,
# bench/results/liveness.md), each centre between the highest value an attack measured
# and the lowest a live capture did: non-planarity, moving photo <= 0.0162, live >= 0.0245;
# flash correlation, replayed other session <= 0.570, live >= 0.842; flash gain, evenly
# lit attacks <= 0.003, live at the weaker flash >= 0.024.
NON_PLANARITY_CURVE = (math.log(0.02), 0.1)  # over the log of the residual
FLASH_CORRELATION_CURVE = (0.7, 0.05)
FLASH_GAIN_CURVE = (0.012, 0.004)
# Feedback: mean luminance of the face, 0-255, and eyes closed in most frames.
LOW_LIGHT, HIGH_LIGHT = 50.0, 225.0
EYES_CLOSED = 0.6


def _logistic(value: float, curve: tuple[float, float]) -> float:
    centre, width = curve
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, (value - centre) / width))))


@dataclass(frozen=True)
class Verdict:
    status: str
    confidence: float | None
    reason: str  # one line for the log: why FAILED, or the signals behind the confidence
    reference: int | None = None  # index of the reference frame
    audit: tuple[int, ...] = ()  # indices of the audit frames
    feedback: list[dict[str, str]] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)


def _failed(reason: str) -> Verdict:
    return Verdict(FAILED, None, reason)


def _flashes_in_order(frames: Sequence[FrameMeasure], count: int) -> bool:
    shown = [f.flash for f in sorted(frames, key=lambda f: f.timestamp_ms) if f.flash is not None]
    return all(0 <= k < count for k in shown) and all(a <= b for a, b in itertools.pairwise(shown))


def _in_oval(challenge: Challenge, centre: tuple[float, float], frame: FrameMeasure) -> bool:
    oval = challenge.oval
    half_w = oval.width / 2
    half_h = oval.width * OVAL_ASPECT * frame.width / frame.height / 2
    dx, dy = (centre[0] - oval.center_x) / half_w, (centre[1] - oval.center_y) / half_h
    return dx * dx + dy * dy <= 1.0


def _feedback(frames: Sequence[FrameMeasure]) -> list[dict[str, str]]:
    faces = [f.face for f in frames if f.face is not None]
    luminance = float(
        np.median([0.299 * r + 0.587 * g + 0.114 * b for r, g, b in (f.face_rgb for f in faces)])
    )
    notes = []
    if luminance < LOW_LIGHT:
        notes.append(("LOW_LIGHTING_DETECTED", "The face was too dark; move to a brighter place."))
    if luminance > HIGH_LIGHT:
        notes.append(("HIGH_LIGHTING_DETECTED", "The face was too bright; avoid direct light on it."))
    if np.median([f.eyes_closed for f in faces]) > EYES_CLOSED:
        notes.append(("EYES_CLOSED_DETECTED", "The eyes were closed; keep them open."))
    return [{"Code": code, "Message": message} for code, message in notes]


def _pick_images(frames: Sequence[FrameMeasure], audit_limit: int) -> tuple[int, tuple[int, ...]]:
    with_face = [i for i, f in enumerate(frames) if f.face is not None]
    # Reference: the surest face of the last third, where it is largest and in the oval.
    last = with_face[len(with_face) * 2 // 3 :]

    def score(i: int) -> float:
        face = frames[i].face
        return face.score if face is not None else 0.0

    reference = max(last, key=score)
    others = [i for i in with_face if i != reference]
    count = min(audit_limit, len(others))
    picks: list[int] = np.linspace(0, len(others) - 1, count).round().astype(int).tolist() if count else []
    return reference, tuple(others[k] for k in picks)


def judge(frames: Sequence[FrameMeasure], challenge: Challenge, audit_limit: int) -> Verdict:
    with_face = [f for f in frames if f.face is not None]
    if len(with_face) < MIN_FRAMES_WITH_FACE or len(with_face) < MIN_FACE_SHARE * len(frames):
        return _failed(f"a face in {len(with_face)} of {len(frames)} frames")
    if not _flashes_in_order(frames, len(challenge.flashes)):
        return _failed("the flashes reported are not the challenge's, in its order")
    moved = signals.approach(frames)
    if moved is None or moved.growth < MIN_GROWTH:
        return _failed(f"the face did not move closer (width x{moved.growth if moved else 0:.2f})")
    fill = moved.end_width / challenge.oval.width
    if fill < MIN_OVAL_FILL or not _in_oval(challenge, moved.end_centre, with_face[-1]):
        return _failed(f"the face did not end in the oval (fills {fill:.2f} of it)")
    measured = {"growth": moved.growth, "oval_fill": fill}
    flat = signals.non_planarity(frames) or 0.0
    measured["non_planarity"] = flat
    confidence = _logistic(math.log(max(flat, 1e-6)), NON_PLANARITY_CURVE)
    if challenge.flashes:
        colours = [f.color for f in challenge.flashes]
        light = signals.flash_response(frames, colours)
        if light.flashes_seen < len(colours) - 1:
            return _failed(f"{light.flashes_seen} of {len(colours)} flashes seen on the face")
        measured.update(flash_correlation=light.correlation, flash_gain=light.gain)
        confidence *= _logistic(light.correlation, FLASH_CORRELATION_CURVE)
        confidence *= _logistic(light.gain, FLASH_GAIN_CURVE)
    reference, audit = _pick_images(frames, audit_limit)
    summary = ", ".join(f"{name} {value:.4f}" for name, value in measured.items())
    return Verdict(
        SUCCEEDED,
        round(100.0 * confidence, 4),
        summary,
        reference=reference,
        audit=audit,
        feedback=_feedback(frames),
        signals=measured,
    )

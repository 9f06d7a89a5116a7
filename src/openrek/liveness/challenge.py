"""The challenge a session's capture page must run, picked by the server at creation.

Two parts, both drawn with `secrets` so that nobody can know them before the session
exists (a video recorded for one session does not fit the next):

- an oval, where the face must end up once the person has moved closer: its centre
  and width are drawn, so a face that does not react to the page lands elsewhere;
- a sequence of coloured flashes the page shows on screen while the person moves
  closer (FaceMovementAndLightChallenge only): colours and durations are drawn, and the
  light a live face reflects must follow them (signals.flash_response).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

FACE_MOVEMENT_AND_LIGHT = "FaceMovementAndLightChallenge"
FACE_MOVEMENT = "FaceMovementChallenge"
# openrek's own version numbers for its two challenges (the strings AWS's model asks
# for: major.minor.patch); ChallengePreferences' Versions are compared with these.
VERSIONS = {FACE_MOVEMENT_AND_LIGHT: "1.0.0", FACE_MOVEMENT: "1.0.0"}
DEFAULT_TYPE = FACE_MOVEMENT_AND_LIGHT

# Saturated colours a screen can show and a camera can tell apart on skin. Each flash
# differs from the one before, so every change of colour is a change the face shows.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "cyan": (0, 255, 255),
    "magenta": (255, 0, 255),
}
FLASH_COUNT = 8
# Long enough for a 10 fps camera to see each flash at least twice after the camera's
# own delay; short enough that the whole sequence takes about 3 s.
FLASH_MS = (300, 500)

# The oval, as ratios of the frame: where its centre may be, and how wide it is. The
# face must fill most of it at the end (see verdict.py), which takes moving closer
# from arm's length.
OVAL_CENTRE_X = (0.40, 0.60)
OVAL_CENTRE_Y = (0.42, 0.55)
OVAL_WIDTH = (0.42, 0.52)
# Height over width of the oval, in frame pixels (a face is about 1.3x taller than wide).
OVAL_ASPECT = 1.35


@dataclass(frozen=True)
class Flash:
    color: tuple[int, int, int]  # RGB, 0-255
    duration_ms: int


@dataclass(frozen=True)
class Oval:
    """Centre and width as ratios of the frame's width and height; the height is
    `OVAL_ASPECT` times the width in pixels, whatever the frame's shape."""

    center_x: float
    center_y: float
    width: float


@dataclass(frozen=True)
class Challenge:
    type: str
    version: str
    oval: Oval
    flashes: tuple[Flash, ...]  # empty for FaceMovementChallenge

    def to_json(self) -> dict[str, Any]:
        return {
            "Type": self.type,
            "Version": self.version,
            "Oval": {
                "CenterX": self.oval.center_x,
                "CenterY": self.oval.center_y,
                "Width": self.oval.width,
                "AspectRatio": OVAL_ASPECT,
            },
            "Flashes": [{"Color": list(f.color), "DurationMs": f.duration_ms} for f in self.flashes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Challenge:
        oval = data["Oval"]
        return cls(
            type=data["Type"],
            version=data["Version"],
            oval=Oval(oval["CenterX"], oval["CenterY"], oval["Width"]),
            flashes=tuple(
                Flash((int(f["Color"][0]), int(f["Color"][1]), int(f["Color"][2])), int(f["DurationMs"]))
                for f in data["Flashes"]
            ),
        )


def _uniform(bounds: tuple[float, float], steps: int = 1000) -> float:
    low, high = bounds
    return round(low + (high - low) * secrets.randbelow(steps + 1) / steps, 4)


def pick_challenge(challenge_type: str = DEFAULT_TYPE) -> Challenge:
    oval = Oval(_uniform(OVAL_CENTRE_X), _uniform(OVAL_CENTRE_Y), _uniform(OVAL_WIDTH))
    flashes: list[Flash] = []
    if challenge_type == FACE_MOVEMENT_AND_LIGHT:
        names = list(PALETTE)
        previous = ""
        for _ in range(FLASH_COUNT):
            name = secrets.choice([n for n in names if n != previous])
            previous = name
            duration = FLASH_MS[0] + 10 * secrets.randbelow((FLASH_MS[1] - FLASH_MS[0]) // 10 + 1)
            flashes.append(Flash(PALETTE[name], duration))
    return Challenge(challenge_type, VERSIONS[challenge_type], oval, tuple(flashes))


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def choose_type(preferences: list[dict[str, Any]]) -> str | None:
    """The first preferred challenge whose Versions range holds openrek's version of
    it; None when none does. No preferences: the default, as on AWS."""
    if not preferences:
        return DEFAULT_TYPE
    for preference in preferences:
        kind = preference["Type"]
        version = _version_key(VERSIONS[kind])
        bounds = preference.get("Versions") or {}
        low, high = bounds.get("Minimum"), bounds.get("Maximum")
        if low is not None and version < _version_key(low):
            continue
        if high is not None and version > _version_key(high):
            continue
        return str(kind)
    return None

"""Face Liveness sessions: create, run the capture, answer results.

A session lives `Settings.liveness_session_seconds` (AWS: 3 minutes) from its
creation. A session not completed by then is EXPIRED; and, as AWS's model says of its
SessionId, once that time has passed all its data (confidence, reference and audit
images) is unavailable: it answers EXPIRED too. Rows are deleted a day later, after
which the id is unknown (SessionNotFoundException).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from openrek.liveness.capture import Capture, decoded, parse_capture
from openrek.liveness.challenge import Challenge, choose_type, pick_challenge
from openrek.liveness.signals import FrameMeasure, measure_frame
from openrek.liveness.store import (
    EXPIRED,
    FAILED,
    OPEN,
    SUCCEEDED,
    LivenessSession,
    LivenessStore,
    SessionMissing,
    open_liveness_store,
)
from openrek.liveness.verdict import Verdict, judge
from openrek.protocol.errors import InvalidParameterException, SessionNotFoundException
from openrek.s3_output import OutputUnwritable, S3Output

if TYPE_CHECKING:
    from openrek.services import Services

log = logging.getLogger("openrek")

# How long an ended session's row is kept (answering EXPIRED) before it is deleted.
FORGET_AFTER_S = 24 * 3600.0
# LivenessImageBlob's maximum in the service model.
MAX_IMAGE_BYTES = 204_800


def _jpeg_within_limit(encoded: bytes, pixels: np.ndarray | None = None) -> bytes:
    """The frame as sent when it is a JPEG small enough, else re-encoded until it is."""
    if encoded.startswith(b"\xff\xd8\xff") and len(encoded) <= MAX_IMAGE_BYTES:
        return encoded
    image = pixels if pixels is not None else cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("a frame that decoded once no longer does")
    for quality in (90, 80, 70, 60, 50, 40):
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(jpeg) <= MAX_IMAGE_BYTES:
            return bytes(jpeg.tobytes())
        if quality == 40:  # still too large: halve the size and start again
            image = cv2.resize(
                image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
            )
            return _jpeg_within_limit(b"", image)
    raise AssertionError("unreachable")


def _box(frame: FrameMeasure) -> dict[str, float]:
    assert frame.face is not None
    x1, y1, x2, y2 = frame.face.box
    return {
        "Width": (x2 - x1) / frame.width,
        "Height": (y2 - y1) / frame.height,
        "Left": x1 / frame.width,
        "Top": y1 / frame.height,
    }


class Liveness:
    def __init__(self, services: Services, store: LivenessStore | None = None) -> None:
        self._services = services
        settings = services.settings
        if store is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            store = open_liveness_store(settings)
        self._store = store
        self._lifetime_s = settings.liveness_session_seconds
        self._output = S3Output(settings.s3_dir, settings.s3_endpoint_url)

    def close(self) -> None:
        self._store.close()

    # ------------------------------------------------------------------ the API
    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        settings = params.get("Settings") or {}
        kind = choose_type(settings.get("ChallengePreferences") or [])
        if kind is None:
            raise InvalidParameterException(
                "None of the ChallengePreferences can be met: openrek runs FaceMovementAndLightChallenge "
                "and FaceMovementChallenge, both at version 1.0.0"
            )
        if params.get("KmsKeyId") is not None and settings.get("OutputConfig") and not self._output.encrypts:
            raise InvalidParameterException(
                "KmsKeyId needs an S3 endpoint to encrypt the images with: set OPENREK_S3_ENDPOINT_URL on the server"
            )
        now = time.time()
        self._store.forget_before(now - FORGET_AFTER_S)
        kept: dict[str, Any] = {key: params[key] for key in ("KmsKeyId", "Settings") if key in params}
        session = self._store.create(
            str(uuid.uuid4()), params.get("ClientRequestToken"), kept, pick_challenge(kind).to_json(), now
        )
        return {"SessionId": session.session_id}

    def results(self, session_id: str) -> dict[str, Any]:
        session = self._current(session_id)
        answer: dict[str, Any] = {
            "SessionId": session.session_id,
            "Status": session.status,
            "Challenge": {"Type": session.challenge["Type"], "Version": session.challenge["Version"]},
        }
        if session.status != SUCCEEDED:
            return answer
        answer["Confidence"] = session.confidence
        images = self._store.images(session_id)
        stored = session.result
        if "ReferenceImage" in stored:
            answer["ReferenceImage"] = self._with_bytes(stored["ReferenceImage"], images, 0)
        answer["AuditImages"] = [
            self._with_bytes(audit, images, slot)
            for slot, audit in enumerate(stored.get("AuditImages", []), start=1)
        ]
        answer["Feedback"] = stored.get("Feedback", [])
        if "Metadata" in stored:
            answer["Metadata"] = stored["Metadata"]
        return answer

    # ------------------------------------------------------------------ the capture page
    def challenge(self, session_id: str) -> dict[str, Any]:
        """The challenge to run; the session is IN_PROGRESS from here."""
        session = self._open(session_id)
        self._store.start(session_id, time.time())
        return {
            "SessionId": session_id,
            "ExpiresAt": session.created_at + self._lifetime_s,
            "Challenge": session.challenge,
        }

    def submit(self, session_id: str, body: Any) -> dict[str, Any]:
        """Measures the capture, judges it and stores the result; answers the status."""
        session = self._open(session_id)
        challenge = Challenge.from_json(session.challenge)
        capture = parse_capture(body, len(challenge.flashes))
        measures = [
            measure_frame(self._services.faces, pixels, frame.timestamp_ms, frame.flash)
            for frame, pixels in decoded(capture)
        ]
        limit = int((session.settings.get("Settings") or {}).get("AuditImagesLimit", 0))
        verdict = judge(measures, challenge, limit)
        log.info("liveness session %s: %s, %s", session_id, verdict.status, verdict.reason)
        result, images, status = self._result(session, capture, measures, verdict)
        confidence = verdict.confidence if status == SUCCEEDED else None
        if not self._store.finish(session_id, status, confidence, result, images, time.time()):
            raise InvalidParameterException(f"The session {session_id} has already ended")
        return {"SessionId": session_id, "Status": status}

    # ------------------------------------------------------------------ helpers
    def _current(self, session_id: str) -> LivenessSession:
        try:
            session = self._store.get(session_id)
        except SessionMissing:
            raise SessionNotFoundException(f"The session {session_id} was not found") from None
        if session.status != EXPIRED and time.time() >= session.created_at + self._lifetime_s:
            self._store.expire(session_id, time.time())
            session = self._store.get(session_id)
        return session

    def _open(self, session_id: str) -> LivenessSession:
        session = self._current(session_id)
        if session.status not in OPEN:
            raise InvalidParameterException(
                f"The session {session_id} is {session.status}: a session takes one capture; create a new one"
            )
        return session

    def _with_bytes(self, image: dict[str, Any], images: list[bytes], slot: int) -> dict[str, Any]:
        if "S3Object" in image or slot >= len(images):
            return dict(image)
        return {"Bytes": images[slot], **image}

    def _result(
        self, session: LivenessSession, capture: Capture, measures: list[FrameMeasure], verdict: Verdict
    ) -> tuple[dict[str, Any], list[bytes], str]:
        """The stored result and image bytes; images go to S3 when OutputConfig asks,
        and a session whose images cannot be written there FAILS, as nothing would be kept."""
        result: dict[str, Any] = {}
        if capture.sdk_type is not None:
            result["Metadata"] = {"SDKType": capture.sdk_type}
        if verdict.status != SUCCEEDED or verdict.reference is None:
            return result, [], verdict.status
        chosen = [verdict.reference, *verdict.audit]
        jpegs = [_jpeg_within_limit(capture.frames[i].encoded) for i in chosen]
        entries: list[dict[str, Any]] = [{"BoundingBox": _box(measures[i])} for i in chosen]
        settings = session.settings.get("Settings") or {}
        output = settings.get("OutputConfig")
        kept: list[bytes] = jpegs
        if output:
            prefix = output.get("S3KeyPrefix") or ""
            if prefix and not prefix.endswith("/"):
                prefix += "/"
            bucket = output["S3Bucket"]
            names = [f"{prefix}{session.session_id}/reference.jpg"] + [
                f"{prefix}{session.session_id}/audit_images/{n}.jpg" for n in range(1, len(chosen))
            ]
            try:
                for name, jpeg in zip(names, jpegs, strict=True):
                    self._output.put(bucket, name, jpeg, session.settings.get("KmsKeyId"))
            except OutputUnwritable as error:
                log.warning("liveness session %s: %s", session.session_id, error)
                return result, [], FAILED
            for entry, name in zip(entries, names, strict=True):
                entry["S3Object"] = {"Bucket": bucket, "Name": name}
            kept = []
        result["ReferenceImage"] = entries[0]
        result["AuditImages"] = entries[1:]
        result["Feedback"] = verdict.feedback
        return result, kept, SUCCEEDED

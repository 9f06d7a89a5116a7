"""A ConnectedHome session: label events to SNS, frames and a summary to S3.

As AWS's developer guide describes label detection stream processors:
- The first sighting of each requested class (PERSON, PET) in a session publishes one
  LABEL_DETECTED notification, and writes the frame it was seen in and the object's
  crop to S3 (the notification's frameImageUri and croppedImageUri).
- The session runs StopSelector.MaxDurationInSeconds (10 s unless given, 120 s at
  most), or until stopped or the source ends; then the session summary is written to
  S3 and a STREAM_PROCESSING_COMPLETE notification published.
- S3 keys are `<KeyPrefix>/<StreamProcessorName>/<SessionId>/...`, AWS's documented
  start; AWS leaves the rest "service determined", and here it is `frames/<ms>.jpg`
  (ms: the frame's offset in the session), `crops/<label id>.jpg` and `summary.json`.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from openrek.inference.labels.labeler import Labeler
from openrek.s3_output import OutputUnwritable, S3Output
from openrek.streams.connected_home import (
    NOT_DETECTED,
    Sighting,
    min_confidence_of,
    requested_labels,
    sightings,
)
from openrek.streams.notifications import SessionFacts, TopicPublisher, label_detected, processing_complete
from openrek.streams.regions import Region, parse_regions
from openrek.streams.session import SessionEnd
from openrek.streams.sinks import SinkFailed
from openrek.streams.sources import LiveFrame
from openrek.streams.store import StreamProcessor

if TYPE_CHECKING:
    from openrek.services import Services

log = logging.getLogger("openrek.streams")

DEFAULT_MAX_SECONDS = 10  # AWS's default MaxDurationInSeconds for label detection
MAX_SECONDS = 120  # AWS's largest ("2 minutes")
FRAGMENT_MILLIS = 1000  # stands in for a Kinesis Video fragment, as in FaceSearch records
JPEG_QUALITY = 90


def session_prefix(key_prefix: str | None, name: str, session_id: str) -> str:
    """`<KeyPrefix>/<StreamProcessorName>/<SessionId>`, without a doubled or leading slash."""
    parts = [key_prefix.strip("/")] if key_prefix and key_prefix.strip("/") else []
    return "/".join([*parts, name, session_id])


def _jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _crop(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    height, width = rgb.shape[:2]
    left, top = int(box[0] * width), int(box[1] * height)
    right, bottom = max(int(np.ceil(box[2] * width)), left + 1), max(int(np.ceil(box[3] * height)), top + 1)
    return np.ascontiguousarray(rgb[top:bottom, left:right])


def bounding_box(box: tuple[float, float, float, float]) -> dict[str, float]:
    left, top, right, bottom = box
    return {"left": left, "top": top, "height": bottom - top, "width": right - left}


def video_mapping(live: LiveFrame, started_at: float) -> dict[str, Any]:
    """Where the frame is in the stream; timestamps in epoch milliseconds (KVS's unit)."""
    offset_millis = round(live.offset_seconds * 1000)
    fragment, within = divmod(offset_millis, FRAGMENT_MILLIS)
    return {
        "kinesisVideoMapping": {
            "fragmentNumber": str(fragment),
            "serverTimestamp": round(live.received_at * 1000),
            "producerTimestamp": round((started_at + live.offset_seconds) * 1000),
            "frameOffsetMillis": within,
        }
    }


@dataclass
class ConnectedHomeSession:
    labeler: Labeler
    output: S3Output
    publisher: TopicPublisher
    facts: SessionFacts
    processor_name: str
    bucket: str
    prefix: str  # <KeyPrefix>/<Name>/<SessionId>
    kms_key_id: str | None
    wanted: tuple[str, ...]
    min_confidence: float
    regions: list[Region]
    max_seconds: float | None
    start_after: float  # wall-clock seconds: frames received earlier are not analysed
    reports_running: bool = False  # AWS: a label detection processor stays STARTING while it runs
    first_events: list[dict[str, Any]] = field(default_factory=list)
    detections: list[dict[str, Any]] = field(default_factory=list)
    frames_analysed: int = 0
    first_offset: float | None = None
    last_offset: float | None = None

    @classmethod
    def open(cls, services: Services, processor: StreamProcessor) -> ConnectedHomeSession:
        definition = processor.definition
        settings = definition["Settings"]["ConnectedHome"]
        start = processor.start_request or {}
        session_id = processor.session_id or ""
        s3 = definition["Output"]["S3Destination"]
        endpoint = services.settings.sns_endpoint_url
        assert endpoint is not None  # checked at CreateStreamProcessor
        max_seconds = float(
            (start.get("StopSelector") or {}).get("MaxDurationInSeconds", DEFAULT_MAX_SECONDS)
        )
        selector = (start.get("StartSelector") or {}).get("KVSStreamStartSelector") or {}
        start_after = 0.0
        if "KVSProducerTimestamp" in selector:
            # A time still to come: the session waits for it, then runs its duration.
            # One already past starts at the live edge: no earlier video is kept here.
            start_after = selector["KVSProducerTimestamp"] / 1000.0
            max_seconds += max(0.0, start_after - time.time())
        return cls(
            labeler=services.labeler,
            output=S3Output(services.settings.s3_dir, services.settings.s3_endpoint_url),
            publisher=TopicPublisher(
                endpoint, services.settings.region, definition["NotificationChannel"]["SNSTopicArn"]
            ),
            facts=SessionFacts(
                definition["Input"]["KinesisVideoStream"]["Arn"],
                session_id,
                dict(processor.tags),
                {"Name": processor.name, **start},
            ),
            processor_name=processor.name,
            bucket=s3["Bucket"],
            prefix=session_prefix(s3.get("KeyPrefix"), processor.name, session_id),
            kms_key_id=definition.get("KmsKeyId"),
            wanted=requested_labels(settings["Labels"]),
            min_confidence=min_confidence_of(settings),
            regions=parse_regions(definition.get("RegionsOfInterest")),
            max_seconds=max_seconds,
            start_after=start_after,
        )

    def analyse(self, live: LiveFrame, started_at: float) -> None:
        if live.received_at < self.start_after:
            return
        rgb = live.frame.to_ndarray(format="rgb24")
        height, width = rgb.shape[:2]
        detectable = [label for label in self.wanted if label not in NOT_DETECTED]
        found: list[Sighting] = []
        if detectable:
            labels = self.labeler.labels(rgb)
            found = sightings(
                labels,
                self.labeler.taxonomy.ancestors,
                width,
                height,
                detectable,
                self.min_confidence,
                self.regions,
            )
        self.frames_analysed += 1
        if self.first_offset is None:
            self.first_offset = live.offset_seconds
        self.last_offset = live.offset_seconds
        mapping = video_mapping(live, started_at)
        if found:
            self.detections.append(
                {
                    "videoMapping": mapping,
                    "labels": [
                        {"name": s.label, "confidence": s.confidence, "boundingBox": bounding_box(s.box)}
                        for s in found
                    ],
                }
            )
        seen = {event["name"] for event in self.first_events}
        firsts: dict[str, Sighting] = {}
        for sighting in found:  # most confident first: each class's best sighting
            if sighting.label not in seen:
                firsts.setdefault(sighting.label, sighting)
        if not firsts:
            return
        frame_key = f"{self.prefix}/frames/{round(live.offset_seconds * 1000)}.jpg"
        self._put(frame_key, _jpeg(rgb))
        for sighting in firsts.values():
            label_id = str(uuid.uuid4())
            crop_key = f"{self.prefix}/crops/{label_id}.jpg"
            self._put(crop_key, _jpeg(_crop(rgb, sighting.box)))
            event = {
                "id": label_id,
                "name": sighting.label,
                "frameImageUri": f"s3://{self.bucket}/{frame_key}",
                "croppedImageUri": f"s3://{self.bucket}/{crop_key}",
                "videoMapping": mapping,
                "boundingBox": bounding_box(sighting.box),
                # Not in the guide's message layout, though its text says notifications carry it.
                "confidence": sighting.confidence,
            }
            self.first_events.append(event)
            self.publisher.publish(label_detected(self.facts, [event]))

    def _put(self, key: str, body: bytes) -> None:
        try:
            self.output.put(self.bucket, key, body, self.kms_key_id)
        except OutputUnwritable as error:
            raise SinkFailed(str(error)) from None

    def processed_millis(self) -> int:
        if self.first_offset is None or self.last_offset is None:
            return 0
        return round((self.last_offset - self.first_offset) * 1000)

    def results_message(self, end: SessionEnd) -> str:
        if end.interrupted:
            opening = "Stream processing was interrupted: the server stopped; the processor runs again when it restarts."
        elif end.status == "FAILED":
            opening = f"Stream processing failed: {end.message}"
        else:
            opening = "Stream processing complete."
        detected = [event["name"] for event in self.first_events]
        missed = [label for label in self.wanted if label not in detected and label not in NOT_DETECTED]
        sentences = [
            opening,
            f"{self.frames_analysed} frames analysed.",
            f"Detected: {', '.join(detected)}." if detected else "Nothing of interest detected.",
        ]
        if missed:
            sentences.append(f"Not seen: {', '.join(missed)}.")
        sentences += [NOT_DETECTED[label] + "." for label in self.wanted if label in NOT_DETECTED]
        return " ".join(sentences)

    def finish(self, end: SessionEnd) -> None:
        message = self.results_message(end)
        processed = self.processed_millis()
        summary = {
            "streamProcessorName": self.processor_name,
            "sessionId": self.facts.session_id,
            "inputInformation": {
                "kinesisVideo": {
                    "streamArn": self.facts.stream_arn,
                    "processedVideoDurationMillis": processed,
                }
            },
            "startStreamProcessorRequest": self.facts.start_request,
            "settings": {"labels": list(self.wanted), "minConfidence": self.min_confidence},
            "status": end.status,
            "streamProcessingResults": {"message": message},
            "framesAnalysed": self.frames_analysed,
            "labels": self.first_events,
            "detections": self.detections,
        }
        try:
            self._put(f"{self.prefix}/summary.json", json.dumps(summary, indent=1).encode())
        except SinkFailed as error:
            log.warning("stream processor %s: no session summary written: %s", self.processor_name, error)
        try:
            self.publisher.publish(processing_complete(self.facts, processed, message))
        except SinkFailed as error:
            log.warning("stream processor %s: no end-of-session notification: %s", self.processor_name, error)

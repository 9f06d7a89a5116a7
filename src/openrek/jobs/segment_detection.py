"""StartSegmentDetection's work: shots (TransNetV2) and technical cues (black frames,
colour bars) over every frame of the video.

Every frame is decoded once and read small: 48x27 RGB for TransNetV2, a luma grid for
black frames, 112x63 RGB for colour bars. Results are stored as GetSegmentDetection
returns them: TECHNICAL_CUE and SHOT segments in the order of the request's
SegmentTypes, each by time, already filtered by the request's MinSegmentConfidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from openrek.jobs.rates import JobInterrupted
from openrek.jobs.store import Job
from openrek.video.audio import audio_metadata
from openrek.video.decode import probe
from openrek.video.frame_stream import Stopping, frame_stream
from openrek.video.shots import FRAME_HEIGHT, FRAME_WIDTH, Shot, TransitionScorer, shots
from openrek.video.technical_cues import (
    BARS_HEIGHT,
    BARS_WIDTH,
    BLACK_FRAMES,
    COLOR_BARS,
    DEFAULT_MAX_PIXEL_THRESHOLD,
    DEFAULT_MIN_COVERAGE_PERCENTAGE,
    BlackFrameRule,
    CueRun,
    CueTracker,
    color_bars_confidence,
)
from openrek.video.timecode import frame_millis, smpte

if TYPE_CHECKING:
    from openrek.services import Services

SHOT, TECHNICAL_CUE = "SHOT", "TECHNICAL_CUE"
# openrek's first model set for each segment type (AWS reports "1.0" for both).
SEGMENT_MODEL_VERSION = "1.0"
DEFAULT_MIN_SEGMENT_CONFIDENCE = 50.0
PROGRESS_EVERY = 25  # frames between two progress reports


def requested_types(request: dict[str, Any]) -> list[str]:
    """SegmentTypes in the order asked, each once. The service model requires them of
    a Start request; a local analysis (`openrek video analyze`) that names none gets both."""
    return list(dict.fromkeys(request.get("SegmentTypes") or [TECHNICAL_CUE, SHOT]))


def black_frame_rule(request: dict[str, Any]) -> BlackFrameRule:
    black = ((request.get("Filters") or {}).get("TechnicalCueFilter") or {}).get("BlackFrame") or {}
    return BlackFrameRule(
        float(black.get("MaxPixelThreshold", DEFAULT_MAX_PIXEL_THRESHOLD)),
        float(black.get("MinCoveragePercentage", DEFAULT_MIN_COVERAGE_PERCENTAGE)),
    )


def min_confidence(request: dict[str, Any], filter_name: str) -> float:
    chosen = ((request.get("Filters") or {}).get(filter_name) or {}).get("MinSegmentConfidence")
    return float(chosen) if chosen is not None else DEFAULT_MIN_SEGMENT_CONFIDENCE


def segment(first_frame: int, last_frame: int, rate: Fraction) -> dict[str, Any]:
    """Times of a segment from its first to its last frame, as AWS states them: the end
    is the last frame's own start; durations are end minus start (AWS's published
    example: a shot over frames 0-697 at 24 fps ends at 29041 ms, 00:00:29:01, and
    lasts 29041 ms, 00:00:29:01)."""
    start_ms, end_ms = frame_millis(first_frame, rate), frame_millis(last_frame, rate)
    return {
        "StartTimestampMillis": start_ms,
        "EndTimestampMillis": end_ms,
        "DurationMillis": end_ms - start_ms,
        "StartTimecodeSMPTE": smpte(first_frame, rate),
        "EndTimecodeSMPTE": smpte(last_frame, rate),
        "DurationSMPTE": smpte(last_frame - first_frame, rate),
        "StartFrameNumber": first_frame,
        "EndFrameNumber": last_frame,
        "DurationFrames": last_frame - first_frame,
    }


def shot_segments(
    found: Sequence[Shot], numbers: Sequence[int], rate: Fraction, floor: float
) -> list[dict[str, Any]]:
    segments = []
    for index, shot in enumerate(found):
        if shot.confidence < floor:
            continue
        segments.append(
            {
                "Type": SHOT,
                **segment(numbers[shot.first], numbers[shot.last], rate),
                # Index counts every shot found, so a filtered one leaves a gap, as AWS's does.
                "ShotSegment": {"Index": index, "Confidence": round(shot.confidence, 3)},
            }
        )
    return segments


def cue_segments(
    runs: Sequence[CueRun], numbers: Sequence[int], rate: Fraction, floor: float
) -> list[dict[str, Any]]:
    ordered = sorted(runs, key=lambda run: (run.first, run.cue))
    return [
        {
            "Type": TECHNICAL_CUE,
            **segment(numbers[run.first], numbers[run.last], rate),
            "TechnicalCueSegment": {"Type": run.cue, "Confidence": round(run.confidence, 3)},
        }
        for run in ordered
        if run.confidence >= floor
    ]


def detect_segments_in_video(services: Services, job: Job) -> dict[str, Any]:
    request = job.request
    types = requested_types(request)
    scorer = TransitionScorer(services.shot_boundaries) if SHOT in types else None
    black_rule = black_frame_rule(request)
    black = CueTracker(BLACK_FRAMES)
    bars = CueTracker(COLOR_BARS)
    numbers: list[int] = []
    progress = services.video_jobs.progress
    with services.video_jobs.locator.local_path(request["Video"]) as path:
        metadata = probe(path)
        audio = audio_metadata(path)
        try:
            with frame_stream(path, services.video_jobs.runner.stopping) as (info, frames):
                for index, frame in enumerate(frames):
                    numbers.append(frame.number)
                    if progress is not None and index % PROGRESS_EVERY == 0 and metadata.duration_millis > 0:
                        done = frame_millis(frame.number, info.rate) / metadata.duration_millis
                        progress(job, min(1.0, done))
                    if scorer is not None:
                        scorer.add(frame.rgb(FRAME_WIDTH, FRAME_HEIGHT))
                    if TECHNICAL_CUE in types:
                        black.add(index, black_rule.confidence(frame.luma()))
                        bars.add(index, color_bars_confidence(frame.rgb(BARS_WIDTH, BARS_HEIGHT)))
        except Stopping:
            raise JobInterrupted(job.job_id) from None
    by_type = {
        SHOT: (
            shot_segments(shots(scorer.finish()), numbers, info.rate, min_confidence(request, "ShotFilter"))
            if scorer is not None
            else []
        ),
        TECHNICAL_CUE: cue_segments(
            black.finish() + bars.finish(), numbers, info.rate, min_confidence(request, "TechnicalCueFilter")
        ),
    }
    return {
        "VideoMetadata": [metadata.as_aws()],
        "AudioMetadata": audio,
        "Segments": [found for kind in types for found in by_type[kind]],
        "SelectedSegmentTypes": [{"Type": kind, "ModelVersion": SEGMENT_MODEL_VERSION} for kind in types],
    }

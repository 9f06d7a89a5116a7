"""Which frames a job analyses: how many a second for each job type, and none once the
server is stopping.

Faces move and are cheap to find: 5 a second. Text stays on screen for seconds and
reading a frame costs about a second on 2 cores: 1 a second. OPENREK_VIDEO_FPS sets
one rate for every job type instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openrek.jobs.store import Job
from openrek.video.decode import SampledFrame, VideoUnreadable, probe, sample
from openrek.video.location import too_long_message
from openrek.video.prefetch import prefetched

if TYPE_CHECKING:
    from openrek.services import Services


class JobInterrupted(Exception):
    """The server is stopping: the job stays IN_PROGRESS and is re-run when it starts again."""


DEFAULT_FRAMES_PER_SECOND = {
    "StartFaceDetection": 5.0,
    "StartFaceSearch": 5.0,
    "StartTextDetection": 1.0,
    # A frame's labels cost about half a second on 2 cores, and scenes change slowly.
    "StartLabelDetection": 1.0,
    # People walk in and out of each other's way: the tracker needs them dense (bench/person_tracking.py).
    "StartPersonTracking": 5.0,
    # Moderation's two models cost about 45 ms a frame on 2 cores; 2 a second catches
    # what is on screen for half a second for under 0.1 s of work per video second.
    "StartContentModeration": 2.0,
    # A celebrity is a face: sampled as densely as face search, matched once per look.
    "StartCelebrityRecognition": 5.0,
}


def frames_per_second(services: Services, api: str) -> float:
    configured = services.settings.video_frames_per_second
    return configured if configured is not None else DEFAULT_FRAMES_PER_SECOND[api]


def _job_frames(services: Services, job: Job, path: Path) -> Iterator[SampledFrame]:
    """The frames `job` analyses, at its type's rate, decoded ahead by another thread.

    A server that is stopping ends the job between two frames rather than waiting for
    a long video to finish. A video that runs past the duration limit fails there,
    whatever its header said (the header is checked at Start, but headers can lie)."""
    stopping = services.video_jobs.runner.stopping
    max_millis = services.video_jobs.locator.max_seconds * 1000
    for frame in prefetched(sample(path, frames_per_second(services, job.api))):
        if stopping.is_set():
            raise JobInterrupted(job.job_id)
        if frame.timestamp_millis > max_millis:
            raise VideoUnreadable(too_long_message(frame.timestamp_millis / 1000, max_millis / 1000))
        yield frame


def results_per_frame(
    services: Services, job: Job, results_of: Callable[[SampledFrame], list[dict[str, Any]]]
) -> tuple[dict[str, object], list[dict[str, Any]]]:
    """The job's video read from its S3Object, its VideoMetadata, and the results
    `results_of` gives for each frame the job analyses, in time order."""
    results: list[dict[str, Any]] = []
    with services.video_jobs.locator.local_path(job.request["Video"]) as path:
        metadata = probe(path)
        max_seconds = services.video_jobs.locator.max_seconds
        if metadata.duration_millis > max_seconds * 1000:  # a remote object, unchecked at Start
            raise VideoUnreadable(too_long_message(metadata.duration_millis / 1000, max_seconds))
        progress = services.video_jobs.progress
        for frame in _job_frames(services, job, path):
            results += results_of(frame)
            if progress is not None and metadata.duration_millis > 0:
                progress(job, min(1.0, frame.timestamp_millis / metadata.duration_millis))
    return metadata.as_aws(), results

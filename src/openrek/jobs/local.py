"""Video analysis without a server: `openrek video analyze clip.mp4`.

The same work a Start* job does (jobs/video_jobs.ANALYSES), run in this process on
a local file, one feature after another, telling a progress callback how far each
has got. Nothing is written to the job store: the results are returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openrek.jobs.store import IN_PROGRESS, Job
from openrek.jobs.video_jobs import ANALYSES, VideoJobs
from openrek.video.location import VideoLocator

if TYPE_CHECKING:
    from openrek.config import Settings
    from openrek.services import Services

# Feature name on the command line -> the Start* operation whose work it is.
FEATURE_OPERATIONS = {
    "faces": "StartFaceDetection",
    "search": "StartFaceSearch",
    "labels": "StartLabelDetection",
    "text": "StartTextDetection",
    "people": "StartPersonTracking",
    "moderation": "StartContentModeration",
    "segments": "StartSegmentDetection",
    "celebrities": "StartCelebrityRecognition",
}


def available_features() -> list[str]:
    """The features whose operation this build runs."""
    return [feature for feature, api in FEATURE_OPERATIONS.items() if api in ANALYSES]


class LocalFile(VideoLocator):
    """The one file being analysed, whatever bucket and key the job names."""

    def __init__(self, path: Path, max_seconds: float) -> None:
        super().__init__(path.parent, max_seconds=max_seconds)
        self._path = path

    def check(self, video: dict[str, Any]) -> None:
        return None

    @contextmanager
    def local_path(self, video: dict[str, Any]) -> Iterator[Path]:
        yield self._path


@dataclass(frozen=True)
class FeatureResult:
    feature: str
    api: str
    results: dict[str, Any]
    seconds: float


def start_services(
    settings: Settings, video: Path, progress: Callable[[str, float], None] | None = None
) -> Services:
    """Services whose video jobs read `video` and report progress as (feature, fraction)."""
    from openrek.services import Services

    operation_features = {api: feature for feature, api in FEATURE_OPERATIONS.items()}

    def report(job: Job, fraction: float) -> None:
        if progress is not None:
            progress(operation_features[job.api], fraction)

    def video_jobs(services: Services) -> VideoJobs:
        return VideoJobs(services, LocalFile(video, settings.max_video_seconds), report)

    return Services.start(settings, video_jobs_factory=video_jobs)


def analyze(
    services: Services, video: Path, features: list[str], options: dict[str, Any] | None = None
) -> Iterator[FeatureResult]:
    """Each feature's results on `video`, in the order asked. `options` are request
    members added to every job (e.g. CollectionId, FaceMatchThreshold, MinConfidence)
    where the operation takes them."""
    from openrek.protocol.service_model import operation_model

    for feature in features:
        api = FEATURE_OPERATIONS[feature]
        model = operation_model(api)
        assert model is not None and model.input_shape is not None
        members = model.input_shape.members
        request = {k: v for k, v in (options or {}).items() if k in members}
        request["Video"] = {"S3Object": {"Bucket": "local", "Name": video.name}}
        job = Job(feature, api, IN_PROGRESS, None, request, None, time.time())
        started = time.monotonic()
        results = ANALYSES[api](services, job)
        yield FeatureResult(feature, api, results, time.monotonic() - started)

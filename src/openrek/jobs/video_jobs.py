"""What the video operations use: the job store, the runner, and where videos are read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from openrek.jobs.celebrity_recognition import recognise_celebrities_in_video
from openrek.jobs.content_moderation import moderate_video
from openrek.jobs.face_detection import detect_faces_in_video
from openrek.jobs.face_search import search_faces_in_video
from openrek.jobs.label_detection import detect_labels_in_video
from openrek.jobs.media_analysis import analyse_media
from openrek.jobs.notify import Notifier
from openrek.jobs.person_tracking import track_people_in_video
from openrek.jobs.runner import JobRunner
from openrek.jobs.segment_detection import detect_segments_in_video
from openrek.jobs.store import Job, open_job_store
from openrek.jobs.text_detection import detect_text_in_video
from openrek.video.location import VideoLocator

if TYPE_CHECKING:
    from openrek.services import Services

# Each Start* operation's work: from the services and a job to the job's results.
ANALYSES: Mapping[str, Callable[[Services, Job], dict[str, Any]]] = {
    "StartFaceDetection": detect_faces_in_video,
    "StartFaceSearch": search_faces_in_video,
    "StartTextDetection": detect_text_in_video,
    "StartLabelDetection": detect_labels_in_video,
    "StartPersonTracking": track_people_in_video,
    "StartContentModeration": moderate_video,
    "StartMediaAnalysisJob": analyse_media,  # bulk image analysis: not a video, the same runner
    "StartSegmentDetection": detect_segments_in_video,
    "StartCelebrityRecognition": recognise_celebrities_in_video,
}

# Told how far a job has got: the job and the fraction of its video analysed (0..1).
Progress = Callable[[Job, float], None]


class VideoJobs:
    def __init__(
        self, services: Services, locator: VideoLocator | None = None, progress: Progress | None = None
    ) -> None:
        settings = services.settings
        self.store = open_job_store(settings)
        self.locator = locator or VideoLocator(
            settings.s3_dir, settings.s3_endpoint_url, settings.max_video_bytes, settings.max_video_seconds
        )
        self.progress = progress
        self.max_in_progress = settings.max_concurrent_jobs
        self.notifier = (
            Notifier(settings.sns_endpoint_url, settings.region) if settings.sns_endpoint_url else None
        )
        self.runner = JobRunner(
            self.store,
            {api: partial(analysis, services) for api, analysis in ANALYSES.items()},
            workers=settings.job_workers,
            finished=self.notifier.job_finished if self.notifier else None,
            lease_s=settings.job_lease_seconds,
        )

    def close(self, wait: bool = False) -> None:
        self.runner.close(wait)
        self.store.close()

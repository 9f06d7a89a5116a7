"""What the video operations use: the job store, the runner, and where videos are read."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from openrek.jobs.face_detection import detect_faces_in_video
from openrek.jobs.face_search import search_faces_in_video
from openrek.jobs.label_detection import detect_labels_in_video
from openrek.jobs.notify import Notifier
from openrek.jobs.runner import JobRunner
from openrek.jobs.segment_detection import detect_segments_in_video
from openrek.jobs.store import JobStore
from openrek.jobs.text_detection import detect_text_in_video
from openrek.video.location import VideoLocator

if TYPE_CHECKING:
    from openrek.services import Services


class VideoJobs:
    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.store = JobStore(settings.data_dir)
        self.locator = VideoLocator(settings.s3_dir, settings.s3_endpoint_url)
        self.max_in_progress = settings.max_concurrent_jobs
        self.notifier = (
            Notifier(settings.sns_endpoint_url, settings.region) if settings.sns_endpoint_url else None
        )
        self.runner = JobRunner(
            self.store,
            {
                "StartFaceDetection": partial(detect_faces_in_video, services),
                "StartFaceSearch": partial(search_faces_in_video, services),
                "StartTextDetection": partial(detect_text_in_video, services),
                "StartLabelDetection": partial(detect_labels_in_video, services),
                "StartSegmentDetection": partial(detect_segments_in_video, services),
            },
            workers=settings.job_workers,
            finished=self.notifier.job_finished if self.notifier else None,
        )

    def close(self, wait: bool = False) -> None:
        self.runner.close(wait)
        self.store.close()

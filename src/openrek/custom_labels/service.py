"""The server's Custom Labels: its store, the backbone, and the background work
(dataset creation, training, starting and copying versions) on a small thread pool
of its own. Training runs one at a time: on 2 cores a second one would only halve
both. The models of RUNNING versions stay loaded for DetectCustomLabels."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from openrek.custom_labels.adapters import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    AdapterHead,
    TrainedAdapter,
    load_adapter,
    save_adapter,
    train_adapter,
)
from openrek.custom_labels.adapters import summary_file as adapter_summary
from openrek.custom_labels.backbone import Backbone, build_backbone
from openrek.custom_labels.classification import CannotTrain
from openrek.custom_labels.manifest import Entry, parse_manifest
from openrek.custom_labels.store import (
    CONTENT_MODERATION,
    COPYING_COMPLETED,
    COPYING_FAILED,
    CREATE_COMPLETE,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    FAILED,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    TRAINING_COMPLETED,
    TRAINING_FAILED,
    TRAINING_IN_PROGRESS,
    CustomLabelsStore,
    Dataset,
    Project,
    Version,
    now,
)
from openrek.custom_labels.training import LoadedModel, TrainedModel, load_model, save_model, train
from openrek.imaging.decode import decode_image
from openrek.imaging.limits import ImageLimits
from openrek.protocol.errors import RekognitionError
from openrek.s3_output import OutputUnwritable, S3Output

if TYPE_CHECKING:
    from openrek.services import Services

log = logging.getLogger("openrek.custom_labels")

MiB = 1 << 20
MANIFEST_LIMITS = ImageLimits(max_s3_bytes=256 * MiB)
TRAINING_IMAGE_LIMITS = ImageLimits(min_side=32)
MAX_TRAINING_SECONDS = 3600.0  # AWS caps a training at 72 h; a CPU server at one hour


@dataclass
class TrainingSpec:
    train: list[Entry]
    test: list[Entry]


class CustomLabels:
    def __init__(self, services: Services) -> None:
        self._services = services
        self.store = CustomLabelsStore(services.settings.data_dir / "custom_labels")
        self._background = ThreadPoolExecutor(2, thread_name_prefix="openrek-custom-labels")
        self._training = ThreadPoolExecutor(1, thread_name_prefix="openrek-training")
        self._backbone: Backbone | None = None
        self._backbone_lock = threading.Lock()
        self._running: dict[str, LoadedModel] = {}  # version ARN -> model
        self._adapters: dict[str, AdapterHead] = {}  # version ARN -> loaded adapter
        self._adapters_lock = threading.Lock()
        self.max_training_seconds = MAX_TRAINING_SECONDS
        self._recover()

    def _recover(self) -> None:
        """What a stopped server left half done: datasets and trainings fail, running
        versions start again."""
        with self.store.lock:
            for project in self.store.projects():
                for dataset in project.datasets.values():
                    if dataset.status == CREATE_IN_PROGRESS:
                        self._set_dataset(
                            dataset,
                            CREATE_FAILED,
                            "The server stopped while creating the dataset",
                            "SERVICE_ERROR",
                        )
                for version in project.versions.values():
                    if version.status == TRAINING_IN_PROGRESS:
                        version.status, version.status_message = (
                            TRAINING_FAILED,
                            "The server stopped during training",
                        )
                    elif version.status == STOPPING:
                        version.status, version.status_message = STOPPED, "The model is stopped."
                    elif version.status in (RUNNING, STARTING):
                        # Loaded before the request that built this service is answered:
                        # a model that was RUNNING serves it (a one-shot in-process CLI
                        # call, or the first DetectCustomLabels after a restart).
                        self.start(project, version, wait=True)
            self.store.save()

    @property
    def backbone(self) -> Backbone:
        with self._backbone_lock:
            if self._backbone is None:
                models = self._services.models
                assert models is not None
                self._backbone = build_backbone(models, self._services.settings.runtime)
            return self._backbone

    def read_image(self, entry: Entry) -> np.ndarray:
        bucket, key = entry.bucket_and_key()
        data = self._services.images.read(
            {"S3Object": {"Bucket": bucket, "Name": key}}, TRAINING_IMAGE_LIMITS
        )
        return decode_image(data, TRAINING_IMAGE_LIMITS).rgb

    def read_manifest(self, s3_object: dict[str, Any]) -> list[Entry]:
        data = self._services.images.read({"S3Object": s3_object}, MANIFEST_LIMITS)
        return parse_manifest(data.decode("utf-8", errors="replace"))

    def _set_dataset(self, dataset: Dataset, status: str, message: str, code: str = "SUCCESS") -> None:
        with self.store.lock:
            dataset.status, dataset.status_message, dataset.status_code = status, message, code
            dataset.updated = now()
            self.store.save()

    # Datasets
    def create_dataset(self, project: Project, dataset: Dataset, read: Callable[[], list[str]]) -> None:
        """Read the entries in the background: a big manifest must not hold the request."""

        def work() -> None:
            try:
                lines = read()
                self.store.write_entries(project.name, dataset.kind, lines)
            except RekognitionError as error:
                self._set_dataset(dataset, CREATE_FAILED, f"{error.code}: {error.message}", "CLIENT_ERROR")
            except Exception:
                log.exception("dataset %s could not be created", dataset.arn)
                self._set_dataset(
                    dataset, CREATE_FAILED, "Internal error; see the server log", "SERVICE_ERROR"
                )
            else:
                self._set_dataset(dataset, CREATE_COMPLETE, "The dataset is created.")

        self._background.submit(work)

    # Training
    def train(self, project: Project, version: Version, spec: Callable[[], TrainingSpec]) -> None:
        self._training.submit(self._train, project, version, spec)

    def _train(self, project: Project, version: Version, spec: Callable[[], TrainingSpec]) -> None:
        started = time.monotonic()
        try:
            data = spec()
            model: TrainedModel | TrainedAdapter
            folder = self.store.version_dir(project.name, version.name)
            if project.feature == CONTENT_MODERATION:
                model = self._train_adapter(version, data, started)
                pins = save_adapter(model, folder)
            else:
                model = train(
                    data.train,
                    data.test,
                    self.read_image,
                    self.backbone,
                    started + self.max_training_seconds,
                    lambda fraction, _text: self._report_training(version, fraction),
                )
                pins = save_model(model, folder)
            summary_key = self._write_summary(project, version, model)
        except (CannotTrain, OutputUnwritable) as why:
            self._fail_training(version, str(why), started)
            return
        except RekognitionError as error:
            self._fail_training(version, f"{error.code}: {error.message}", started)
            return
        except Exception:
            log.exception("training %s failed", version.arn)
            self._fail_training(version, "Internal error while training; see the server log", started)
            return
        from openrek.custom_labels.evaluation import model_f1

        with self.store.lock:
            version.files = pins
            version.f1_score = model.f1 if isinstance(model, TrainedAdapter) else model_f1(model.results)
            version.summary_key = summary_key
            version.training_seconds = max(1, round(time.monotonic() - started))
            version.training_end = now()
            version.status, version.status_message = TRAINING_COMPLETED, "The model is ready to run."
            self.store.save()

    def _train_adapter(self, version: Version, data: TrainingSpec, started: float) -> TrainedAdapter:
        config = (version.feature_config or {}).get("ContentModeration") or {}
        return train_adapter(
            data.train,
            data.test,
            self.read_image,
            self.backbone,
            self._services.moderator.evidence,
            float(config.get("ConfidenceThreshold", DEFAULT_CONFIDENCE_THRESHOLD)),
            started + self.max_training_seconds,
            lambda fraction, _text: self._report_training(version, fraction),
        )

    def adapter(self, project: Project, version: Version) -> AdapterHead:
        """A trained adapter, loaded (and its files checked against their pins) on first use:
        adapters need no StartProjectVersion."""
        with self._adapters_lock:
            loaded = self._adapters.get(version.arn)
            if loaded is None:
                loaded = load_adapter(self.store.version_dir(project.name, version.name), version.files)
                self._adapters[version.arn] = loaded
            return loaded

    def _report_training(self, version: Version, fraction: float) -> None:
        # AWS's StatusMessage is free text; a percentage in it lets a client draw progress.
        with self.store.lock:
            version.status_message = f"The model is being trained ({round(100 * fraction)}% done)."

    def _fail_training(self, version: Version, message: str, started: float) -> None:
        with self.store.lock:
            version.status, version.status_message = TRAINING_FAILED, message
            version.training_seconds = max(1, round(time.monotonic() - started))
            version.training_end = now()
            self.store.save()

    def _write_summary(self, project: Project, version: Version, model: Any) -> str:
        import datetime as dt
        import json

        from openrek.custom_labels.evaluation import summary_file
        from openrek.custom_labels.training import DETECTION

        finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if isinstance(model, TrainedAdapter):
            body = adapter_summary(version.arn, finished, model)
        else:
            body = summary_file(
                version.arn,
                finished,
                model.results,
                model.training_images,
                model.testing_images,
                model.kind == DETECTION,
            )
        output = version.output_config
        prefix = output.get("S3KeyPrefix") or ""
        key = f"{prefix}EvaluationSummary-{project.name}-{version.name}.json"
        settings = self._services.settings
        S3Output(settings.s3_dir, settings.s3_endpoint_url).put(
            output["S3Bucket"], key, json.dumps(body, indent=1).encode(), version.kms_key_id
        )
        return key

    # Running versions
    def start(self, project: Project, version: Version, wait: bool = False) -> None:
        version.status, version.status_message = STARTING, "The model is starting."

        def work() -> None:
            try:
                model = load_model(self.store.version_dir(project.name, version.name), version.files)
                self.backbone  # noqa: B018 - loaded now, not on the first DetectCustomLabels
            except Exception as error:
                log.exception("version %s could not start", version.arn)
                with self.store.lock:
                    version.status, version.status_message = FAILED, f"The model could not be loaded: {error}"
                    self.store.save()
                return
            with self.store.lock:
                if version.status == STARTING:
                    self._running[version.arn] = model
                    version.status, version.status_message = RUNNING, "The model is running."
                    self.store.save()

        if wait:
            work()
        else:
            self._background.submit(work)

    def stop(self, version: Version) -> None:
        version.status, version.status_message = STOPPING, "The model is stopping."
        self._running.pop(version.arn, None)

        def work() -> None:
            with self.store.lock:
                if version.status == STOPPING:
                    version.status, version.status_message = STOPPED, "The model is stopped."
                    self.store.save()

        self._background.submit(work)

    def running_model(self, arn: str) -> LoadedModel | None:
        return self._running.get(arn)

    def copy(self, source: tuple[Project, Version], target: tuple[Project, Version]) -> None:
        def work() -> None:
            try:
                from_dir = self.store.version_dir(source[0].name, source[1].name)
                to_dir = self.store.version_dir(target[0].name, target[1].name)
                load_model(from_dir, source[1].files)  # copy only what still matches its pins
                shutil.copytree(from_dir, to_dir, dirs_exist_ok=True)
                status, message = COPYING_COMPLETED, "The model is copied."
            except Exception as error:
                status, message = COPYING_FAILED, f"The model could not be copied: {error}"
            with self.store.lock:
                target[1].status, target[1].status_message = status, message
                self.store.save()

        self._background.submit(work)

    def remove_version_files(self, project: Project, version: Version) -> None:
        self._adapters.pop(version.arn, None)
        shutil.rmtree(self.store.version_dir(project.name, version.name), ignore_errors=True)

    def close(self) -> None:
        self._background.shutdown(wait=False, cancel_futures=True)
        self._training.shutdown(wait=False, cancel_futures=True)

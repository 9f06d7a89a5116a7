"""The server's Custom Labels: its store, the backbone, the models it has loaded, and the
background work (creating datasets, training, copying and starting versions), which
work.py claims from the store and hands back here to run.

Any process serves any version: a RUNNING version's model is loaded on the first
DetectCustomLabels that names it (from the store, checked against its pins) and
dropped once the store says it is no longer RUNNING.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
from openrek.custom_labels.evaluation import model_f1, summary_file
from openrek.custom_labels.manifest import Entry, parse_manifest
from openrek.custom_labels.records import (
    CONTENT_MODERATION,
    COPYING_COMPLETED,
    COPYING_FAILED,
    COPYING_IN_PROGRESS,
    CREATE_COMPLETE,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    FAILED,
    RUNNING,
    STARTING,
    TRAINING_COMPLETED,
    TRAINING_FAILED,
    Dataset,
    Project,
    Version,
    now,
    version_names_of,
)
from openrek.custom_labels.store import CustomLabelsStore, ProjectEdit, open_custom_labels_store
from openrek.custom_labels.training import DETECTION, LoadedModel, TrainedModel, load_model, save_model, train
from openrek.custom_labels.work import Claim, ClaimLost, Item, WorkLoop, item_of, set_status
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
INTERNAL = "Internal error; see the server log"
Loaded = TypeVar("Loaded", LoadedModel, AdapterHead)


@dataclass
class TrainingSpec:
    train: list[Entry]
    test: list[Entry]


class CustomLabels:
    def __init__(self, services: Services) -> None:
        self._services = services
        self.store: CustomLabelsStore = open_custom_labels_store(services.settings)
        self._backbone: Backbone | None = None
        self._backbone_lock = threading.Lock()
        # Version ARN -> (its pins, the model loaded from them), for RUNNING versions / adapters.
        self._running: dict[str, tuple[dict[str, str], LoadedModel]] = {}
        self._adapters: dict[str, tuple[dict[str, str], AdapterHead]] = {}
        self._loaded_lock = threading.Lock()
        self.max_training_seconds = MAX_TRAINING_SECONDS
        self.work = WorkLoop(self, services.settings.job_lease_seconds)
        if not self.store.shared:
            # The embedded default: this process is the only one that can do the work
            # (including what a stopped server left half done).
            self.work.start_versions_now()
            self.work.start()

    def start_claiming(self) -> None:
        """Shared store: take work from the store (servers that run jobs, and workers)."""
        self.work.start()

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

    # Models, loaded where they are used
    def running_model(self, project: Project, version: Version) -> LoadedModel | None:
        """The model of a RUNNING version (loaded now if this process has not yet), or None."""
        if version.status != RUNNING:
            with self._loaded_lock:
                self._running.pop(version.arn, None)
            return None
        return self._loaded(self._running, project, version, load_model)

    def adapter(self, project: Project, version: Version) -> AdapterHead:
        """A trained adapter, loaded (and its files checked against their pins) on first use:
        adapters need no StartProjectVersion."""
        return self._loaded(self._adapters, project, version, load_adapter)

    def _loaded(
        self,
        cache: dict[str, tuple[dict[str, str], Loaded]],
        project: Project,
        version: Version,
        load: Callable[[Path, dict[str, str]], Loaded],
    ) -> Loaded:
        """The version's model from `cache`, loaded again when its pinned files changed."""
        with self._loaded_lock:
            loaded = cache.get(version.arn)
            if loaded is None or loaded[0] != version.files:
                folder = self.store.version_files(project.name, version.name, version.files)
                loaded = (dict(version.files), load(folder, version.files))
                cache[version.arn] = loaded
            return loaded[1]

    def remove_version_files(self, project: Project, version: Version) -> None:
        with self._loaded_lock:
            self._adapters.pop(version.arn, None)
            self._running.pop(version.arn, None)
        self.store.remove_version_files(project.name, version.name)

    # Background work (work.py claims it and calls here)
    def run_work(self, claim: Claim) -> None:
        project = self.store.project(claim.project)
        item = item_of(project, claim)
        if item is None:
            raise ClaimLost
        if claim.status == CREATE_IN_PROGRESS:
            self._create_dataset(claim, item)
        elif claim.status == STARTING:
            assert isinstance(item, Version)
            self._start(claim, project, item)
        elif claim.status == COPYING_IN_PROGRESS:
            assert isinstance(item, Version)
            self._copy(claim, item)
        else:
            assert isinstance(item, Version)
            self._train(claim, project, item)

    def _create_dataset(self, claim: Claim, dataset: Item) -> None:
        """Read the entries in the background: a big manifest must not hold the request."""
        assert isinstance(dataset, Dataset)
        source = dataset.source or {}
        try:
            if "S3Object" in source:
                lines = [entry.line for entry in self.read_manifest(source["S3Object"])]
            elif "Project" in source:
                lines = [e.line for e in self.store.entries(source["Project"], source["DatasetType"])]
            else:
                lines = []  # an empty dataset, filled later by UpdateDatasetEntries
        except RekognitionError as error:
            self.work.finish(claim, _dataset_failed(f"{error.code}: {error.message}", "CLIENT_ERROR"))
            return
        except Exception:
            log.exception("dataset %s could not be created", dataset.arn)
            self.work.finish(claim, _dataset_failed(INTERNAL, "SERVICE_ERROR"))
            return

        def created(edit: ProjectEdit, item: Item) -> None:
            edit.write_entries(claim.name, lines)
            set_status(CREATE_COMPLETE, "The dataset is created.")(edit, item)

        self.work.finish(claim, created)

    def _start(self, claim: Claim, project: Project, version: Version) -> None:
        try:
            folder = self.store.version_files(project.name, version.name, version.files)
            model = load_model(folder, version.files)
            self.backbone  # noqa: B018 - loaded now, not on the first DetectCustomLabels
        except Exception as error:
            log.exception("version %s could not start", version.arn)
            self.work.finish(claim, set_status(FAILED, f"The model could not be loaded: {error}"))
            return
        with self._loaded_lock:
            self._running[version.arn] = (dict(version.files), model)
        self.work.finish(claim, set_status(RUNNING, "The model is running."))

    def _copy(self, claim: Claim, version: Version) -> None:
        source = version_names_of(version.source_version_arn or "")
        try:
            if source is None:
                raise ValueError(f"{version.source_version_arn} is not a model version's ARN")
            self.store.copy_version_files(source, (claim.project, version.name))
            # Only what still matches its pins is a copy.
            load_model(self.store.version_files(claim.project, version.name, version.files), version.files)
            status, message = COPYING_COMPLETED, "The model is copied."
        except Exception as error:
            status, message = COPYING_FAILED, f"The model could not be copied: {error}"
        self.work.finish(claim, set_status(status, message))

    # Training
    def training_data(self, project: Project, version: Version) -> TrainingSpec:
        """What training reads: the manifests the request named, or the project's datasets."""
        if version.training_input is None:
            return TrainingSpec(
                self.store.entries(project.name, "TRAIN"), self.store.entries(project.name, "TEST")
            )

        def assets(data: dict[str, Any] | None) -> list[Entry]:
            entries: list[Entry] = []
            for asset in (data or {}).get("Assets") or []:
                s3_object = (asset.get("GroundTruthManifest") or {}).get("S3Object")
                if s3_object:
                    entries += self.read_manifest(s3_object)
            return entries

        return TrainingSpec(assets(version.training_input), assets(version.testing_input))

    def _train(self, claim: Claim, project: Project, version: Version) -> None:
        started = time.monotonic()

        def progress(fraction: float, _text: str) -> None:
            # AWS's StatusMessage is free text; a percentage in it lets a client draw progress.
            self.work.progress(claim, f"The model is being trained ({round(100 * fraction)}% done).")

        try:
            data = self.training_data(project, version)
            model: TrainedModel | TrainedAdapter
            folder = self.store.scratch_dir(project.name, version.name)
            if project.feature == CONTENT_MODERATION:
                model = self._train_adapter(version, data, started, progress)
                pins = save_adapter(model, folder)
            else:
                model = train(
                    data.train,
                    data.test,
                    self.read_image,
                    self.backbone,
                    started + self.max_training_seconds,
                    progress,
                )
                pins = save_model(model, folder)
            self.store.keep_version_files(project.name, version.name, pins)
            summary_key = self._write_summary(project, version, model)
        except ClaimLost:
            raise
        except (CannotTrain, OutputUnwritable) as why:
            self._fail_training(claim, str(why), started)
            return
        except RekognitionError as error:
            self._fail_training(claim, f"{error.code}: {error.message}", started)
            return
        except Exception:
            log.exception("training %s failed", version.arn)
            self._fail_training(claim, "Internal error while training; see the server log", started)
            return
        f1 = model.f1 if isinstance(model, TrainedAdapter) else model_f1(model.results)

        def trained(_edit: ProjectEdit, item: Item) -> None:
            assert isinstance(item, Version)
            item.files, item.f1_score, item.summary_key = pins, f1, summary_key
            item.training_seconds = max(1, round(time.monotonic() - started))
            item.training_end = now()
            item.status, item.status_message = TRAINING_COMPLETED, "The model is ready to run."

        self.work.finish(claim, trained)

    def _train_adapter(
        self, version: Version, data: TrainingSpec, started: float, progress: Any
    ) -> TrainedAdapter:
        config = (version.feature_config or {}).get("ContentModeration") or {}
        return train_adapter(
            data.train,
            data.test,
            self.read_image,
            self.backbone,
            self._services.moderator.evidence,
            float(config.get("ConfidenceThreshold", DEFAULT_CONFIDENCE_THRESHOLD)),
            started + self.max_training_seconds,
            progress,
        )

    def _fail_training(self, claim: Claim, message: str, started: float) -> None:
        def failed(_edit: ProjectEdit, item: Item) -> None:
            assert isinstance(item, Version)
            item.status, item.status_message = TRAINING_FAILED, message
            item.training_seconds = max(1, round(time.monotonic() - started))
            item.training_end = now()

        self.work.finish(claim, failed)

    def _write_summary(self, project: Project, version: Version, model: Any) -> str:
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

    def close(self) -> None:
        self.work.close()
        self.store.close()


def _dataset_failed(message: str, code: str) -> Callable[[ProjectEdit, Item], None]:
    def failed(_edit: ProjectEdit, item: Item) -> None:
        assert isinstance(item, Dataset)
        item.status, item.status_message, item.status_code = CREATE_FAILED, message, code
        item.updated = now()

    return failed

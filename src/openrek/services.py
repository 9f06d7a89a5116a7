"""Services: everything handlers use, built once from Settings at start-up."""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openrek.config import Settings
from openrek.imaging.budget import PixelBudget
from openrek.imaging.decode import LoadedImage, decode_image
from openrek.imaging.limits import DEFAULT_LIMITS, ImageLimits
from openrek.imaging.source import ImageSource
from openrek.inference.faces import similarity as similarity_scale
from openrek.inference.faces.age_gender import AgeGender
from openrek.inference.faces.analyzer import FaceAnalyzer
from openrek.inference.faces.detector import YuNetDetector
from openrek.inference.faces.embedder import FaceEmbedder
from openrek.inference.faces.emotion import EmotionClassifier
from openrek.inference.faces.mesh import FaceMesh
from openrek.inference.session import open_session
from openrek.models.store import ModelStore
from openrek.protocol.errors import InvalidParameterException
from openrek.storage.base import FaceStore
from openrek.storage.sqlite import SqliteFaceStore

FACE_MODELS = (
    "face-detector",
    "face-landmarks",
    "face-blendshapes",
    "face-age",
    "face-gender",
    "face-emotion",
)
# FaceModelVersion -> the model store entry of its embedding model. A collection is
# searched with the model it was built with; vectors of two versions never meet.
FACE_EMBEDDING_MODELS = {
    "1.0": "face-embedding-sface",
    "2.0": "face-embedding-arcface-mbf",
}


# Analysers beyond faces: area -> "module:function" building it from (ModelStore,
# Settings, FaceAnalyzer). Their models are verified at start-up (a missing file stops
# the server there) but loaded on first use, so a server that only handles faces
# keeps only the face models in memory.
ANALYZERS: dict[str, str] = {
    "labels": "openrek.inference.labels.labeler:build",
    "text": "openrek.inference.text.reader:build",
    "moderation": "openrek.inference.moderation.moderator:build",
    "protective_equipment": "openrek.inference.ppe.inspector:build",
}


def build_face_analyzer(store: ModelStore, settings: Settings) -> FaceAnalyzer:
    store.verify(FACE_MODELS)

    def session(name: str):  # type: ignore[no-untyped-def]
        return open_session(store.path(name), settings.runtime)

    return FaceAnalyzer(
        detector=YuNetDetector(session("face-detector")),
        mesh=FaceMesh(session("face-landmarks"), session("face-blendshapes")),
        age_gender=AgeGender(session("face-age"), session("face-gender")),
        emotion=EmotionClassifier(session("face-emotion")),
    )


def build_embedders(store: ModelStore, settings: Settings) -> dict[str, FaceEmbedder]:
    """Every installed embedding model; the configured default must be among them."""
    default = settings.face_model_version
    if default not in FACE_EMBEDDING_MODELS:
        known = ", ".join(FACE_EMBEDDING_MODELS)
        raise ValueError(f"unknown face model version {default!r}; known: {known}")
    store.verify([FACE_EMBEDDING_MODELS[default]])
    embedders = {}
    for version, name in FACE_EMBEDDING_MODELS.items():
        if store.path(name).exists():
            store.verify([name])
            embedders[version] = FaceEmbedder(open_session(store.path(name), settings.runtime), version)
    return embedders


@dataclass
class Services:
    settings: Settings
    images: ImageSource
    faces: FaceAnalyzer
    embedders: dict[str, FaceEmbedder]
    models: ModelStore | None = field(default=None, repr=False)
    decode_budget: PixelBudget | None = field(default=None, repr=False)
    _store: FaceStore | None = field(default=None, repr=False)
    _store_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _analyzers: dict[str, Any] = field(default_factory=dict, repr=False)
    _analyzers_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls, settings: Settings) -> Services:
        """Load every model once; a missing or corrupt one stops start-up here."""
        models = ModelStore(settings.models_dir)
        models.verify(models.default_names)
        return cls(
            settings=settings,
            images=ImageSource(settings.s3_dir, settings.s3_endpoint_url),
            faces=build_face_analyzer(models, settings),
            embedders=build_embedders(models, settings),
            models=models,
            decode_budget=PixelBudget(settings.decode_budget_bytes, max_waiting=64),
        )

    def analyzer(self, area: str) -> Any:
        """The analyser of one area (see ANALYZERS), built on first use."""
        with self._analyzers_lock:
            if area not in self._analyzers:
                module, function = ANALYZERS[area].split(":")
                build = getattr(importlib.import_module(module), function)
                models = self.models or ModelStore(self.settings.models_dir)
                self._analyzers[area] = build(models, self.settings, self.faces)
            return self._analyzers[area]

    @property
    def store(self) -> FaceStore:
        """The collections database, opened on first use: a script that only runs
        non-storage operations leaves nothing on disk."""
        with self._store_lock:
            if self._store is None:
                self.settings.data_dir.mkdir(parents=True, exist_ok=True)
                self._store = SqliteFaceStore(self.settings.database_path)
            return self._store

    @property
    def default_face_model_version(self) -> str:
        return self.settings.face_model_version

    def embedder_for(self, version: str) -> FaceEmbedder:
        embedder = self.embedders.get(version)
        if embedder is None:
            raise InvalidParameterException(
                f"This collection uses face model {version}, which is not installed on this "
                "server; run `openrek models pull` or re-index the faces into a new collection"
            )
        return embedder

    def similarity(self, cosine: float | np.ndarray, version: str) -> Any:
        return similarity_scale.similarity(cosine, version)

    def min_cosine(self, threshold: float, version: str) -> float:
        return similarity_scale.min_cosine(threshold, version)

    def load_image(self, image: dict[str, Any], limits: ImageLimits = DEFAULT_LIMITS) -> LoadedImage:
        """The one door for pixels: bytes or S3 object, within the operation's limits."""
        return decode_image(self.images.read(image, limits), limits, self.decode_budget)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

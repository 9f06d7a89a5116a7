"""Services: everything handlers use, built once from Settings at start-up."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

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
from openrek.inference.session import Session, open_session
from openrek.models.store import ModelStore
from openrek.protocol.errors import InvalidParameterException
from openrek.storage.backends import open_face_store
from openrek.storage.base import FaceStore

if TYPE_CHECKING:
    from openrek.celebrities.gallery import Gallery
    from openrek.custom_labels.service import CustomLabels
    from openrek.inference.labels.labeler import Labeler
    from openrek.inference.labels.objects import ObjectDetector
    from openrek.inference.moderation.moderator import Moderator
    from openrek.inference.people.detector import PersonDetector
    from openrek.inference.ppe.inspector import Inspector
    from openrek.inference.text.reader import TextReader
    from openrek.jobs.video_jobs import VideoJobs
    from openrek.liveness.service import Liveness
    from openrek.streams.processors import StreamProcessors

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

T = TypeVar("T")


def build_face_analyzer(
    store: ModelStore, settings: Settings, embedders: dict[str, FaceEmbedder] | None = None
) -> FaceAnalyzer:
    """The face models behind every face operation. `embedders` (build_embedders'): the
    analyser borrows their 1.0 model for Eyeglasses instead of loading SFace again."""
    store.verify(FACE_MODELS)

    def session(name: str) -> Session:
        return open_session(store.path(name), settings.runtime)

    # Eyeglasses' learned head reads SFace's embedding; where an install left
    # FaceModelVersion 1.0 out, Eyeglasses stays a measurement.
    sface: FaceEmbedder | None = None
    if embedders is not None:
        sface = embedders.get("1.0")
    elif store.path(FACE_EMBEDDING_MODELS["1.0"]).exists():
        sface = FaceEmbedder(session(FACE_EMBEDDING_MODELS["1.0"]), "1.0")
    return FaceAnalyzer(
        detector=YuNetDetector(session("face-detector")),
        mesh=FaceMesh(
            session("face-landmarks"),
            session("face-blendshapes"),
            parallel_faces=settings.runtime.intra_op_threads or os.cpu_count() or 1,
        ),
        age_gender=AgeGender(session("face-age"), session("face-gender")),
        emotion=EmotionClassifier(session("face-emotion")),
        appearance_embedder=sface,
    )


def build_embedders(store: ModelStore, settings: Settings) -> dict[str, FaceEmbedder]:
    """Every installed embedding model; the configured default must be among them."""
    default = settings.face_model_version
    if default not in FACE_EMBEDDING_MODELS:
        known = ", ".join(FACE_EMBEDDING_MODELS)
        raise ValueError(f"unknown face model version {default!r}; known: {known}")
    store.verify([FACE_EMBEDDING_MODELS[default]])
    embedders: dict[str, FaceEmbedder] = {}
    for version, name in FACE_EMBEDDING_MODELS.items():
        if store.path(name).exists():
            store.verify([name])
            embedders[version] = FaceEmbedder(open_session(store.path(name), settings.runtime), version)
    return embedders


class Lazy(Generic[T]):
    """A value built on first use, once, under a lock of its own: a slow build (a model
    loading) never holds up another value's."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value

    def built(self) -> T | None:
        """The value if it has been built, without building it."""
        return self._value


@dataclass
class Services:
    """Analysers beyond faces (labeler, text_reader, moderator, ppe_inspector) have their
    models verified at start-up (a missing file stops the server there) but loaded on
    first use, so a server that only handles faces keeps only the face models in memory."""

    settings: Settings
    images: ImageSource
    faces: FaceAnalyzer
    embedders: dict[str, FaceEmbedder]
    models: ModelStore | None = field(default=None, repr=False)
    decode_budget: PixelBudget | None = field(default=None, repr=False)
    _store: FaceStore | None = field(default=None, repr=False)
    _store_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # How video jobs are built: the server's store and runner by default; `openrek video
    # analyze` gives its own, which reads a local file and reports progress.
    video_jobs_factory: Callable[[Services], VideoJobs] | None = field(default=None, repr=False)
    _objects: Lazy[ObjectDetector] = field(init=False, repr=False)
    _person_detector: Lazy[PersonDetector] = field(init=False, repr=False)
    _labeler: Lazy[Labeler] = field(init=False, repr=False)
    _text_reader: Lazy[TextReader] = field(init=False, repr=False)
    _moderator: Lazy[Moderator] = field(init=False, repr=False)
    _ppe_inspector: Lazy[Inspector] = field(init=False, repr=False)
    _video_jobs: Lazy[VideoJobs] = field(init=False, repr=False)
    _stream_processors: Lazy[StreamProcessors] = field(init=False, repr=False)
    _shot_boundaries: Lazy[Session] = field(init=False, repr=False)
    _celebrities: Lazy[Gallery] = field(init=False, repr=False)
    _custom_labels: Lazy[CustomLabels] = field(init=False, repr=False)
    _liveness: Lazy[Liveness] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._objects = Lazy(self._build_object_detector)
        self._person_detector = Lazy(self._build_person_detector)
        self._labeler = Lazy(self._build_labeler)
        self._text_reader = Lazy(self._build_text_reader)
        self._moderator = Lazy(self._build_moderator)
        self._ppe_inspector = Lazy(self._build_ppe_inspector)
        self._video_jobs = Lazy(self._build_video_jobs)
        self._stream_processors = Lazy(self._build_stream_processors)
        self._shot_boundaries = Lazy(self._build_shot_boundaries)
        self._celebrities = Lazy(self._build_celebrities)
        self._custom_labels = Lazy(self._build_custom_labels)
        self._liveness = Lazy(self._build_liveness)

    @classmethod
    def start(
        cls, settings: Settings, video_jobs_factory: Callable[[Services], VideoJobs] | None = None
    ) -> Services:
        """Load every model once; a missing or corrupt one stops start-up here."""
        models = ModelStore(settings.models_dir)
        models.verify(models.default_names)
        embedders = build_embedders(models, settings)
        return cls(
            video_jobs_factory=video_jobs_factory,
            settings=settings,
            images=ImageSource(settings.s3_dir, settings.s3_endpoint_url),
            faces=build_face_analyzer(models, settings, embedders),
            embedders=embedders,
            models=models,
            decode_budget=PixelBudget(settings.decode_budget_bytes, max_waiting=64),
        )

    @property
    def labeler(self) -> Labeler:
        """DetectLabels' analyser; it shares the face operations' face detector."""
        return self._labeler.get()

    @property
    def object_detector(self) -> ObjectDetector:
        """The COCO object detector, shared by DetectLabels and person tracking."""
        return self._objects.get()

    @property
    def person_detector(self) -> PersonDetector:
        return self._person_detector.get()

    @property
    def text_reader(self) -> TextReader:
        return self._text_reader.get()

    @property
    def moderator(self) -> Moderator:
        return self._moderator.get()

    @property
    def ppe_inspector(self) -> Inspector:
        return self._ppe_inspector.get()

    @property
    def video_jobs(self) -> VideoJobs:
        """Stored-video jobs: their store under the data directory, opened on first use."""
        return self._video_jobs.get()

    @property
    def shot_boundaries(self) -> Session:
        """TransNetV2 (StartSegmentDetection's shots), loaded on the first segment job."""
        return self._shot_boundaries.get()

    def _build_shot_boundaries(self) -> Session:
        return open_session(self._model_store().path("shot-boundaries"), self.settings.runtime)

    @property
    def celebrities(self) -> Gallery:
        """The operator's celebrity gallery under the data directory, opened on first use."""
        return self._celebrities.get()

    def _build_celebrities(self) -> Gallery:
        from openrek.celebrities.gallery import open_gallery

        return open_gallery(self.settings)

    @property
    def custom_labels(self) -> CustomLabels:
        """Custom Labels projects and models: their store under the data directory, opened on first use."""
        return self._custom_labels.get()

    def _build_custom_labels(self) -> CustomLabels:
        from openrek.custom_labels.service import CustomLabels

        return CustomLabels(self)

    @property
    def liveness(self) -> Liveness:
        """Face Liveness sessions: their store under the data directory, opened on first use."""
        return self._liveness.get()

    def _build_liveness(self) -> Liveness:
        from openrek.liveness.service import Liveness

        return Liveness(self)

    @property
    def stream_processors(self) -> StreamProcessors:
        """Stream processors: their store under the data directory, opened on first use."""
        return self._stream_processors.get()

    def _build_stream_processors(self) -> StreamProcessors:
        from openrek.streams.processors import StreamProcessors

        return StreamProcessors(self)

    def _build_video_jobs(self) -> VideoJobs:
        if self.video_jobs_factory is not None:
            return self.video_jobs_factory(self)
        from openrek.jobs.video_jobs import VideoJobs

        return VideoJobs(self)

    # The analysers' modules are imported on first use too: start-up stays as fast as
    # a faces-only server's.
    def _build_labeler(self) -> Labeler:
        from openrek.inference.labels.labeler import build_labeler
        from openrek.inference.labels.people import face_describer

        return build_labeler(
            self._model_store(),
            self.settings.runtime,
            self.faces.detector.detect,
            self.object_detector,
            describe_face=face_describer(self.faces.age_gender),
        )

    def _build_object_detector(self) -> ObjectDetector:
        from openrek.inference.labels.objects import build_object_detector

        return build_object_detector(self._model_store(), self.settings.runtime)

    def _build_person_detector(self) -> PersonDetector:
        from openrek.inference.people.detector import PersonDetector

        return PersonDetector(self.object_detector)

    def _build_text_reader(self) -> TextReader:
        from openrek.inference.text.reader import build_text_reader

        return build_text_reader(self._model_store(), self.settings.runtime)

    def _build_moderator(self) -> Moderator:
        from openrek.inference.moderation.moderator import build_moderator

        return build_moderator(self._model_store(), self.settings.runtime)

    def _build_ppe_inspector(self) -> Inspector:
        from openrek.inference.ppe.inspector import build_inspector

        return build_inspector(self._model_store(), self.settings.runtime)

    def _model_store(self) -> ModelStore:
        return self.models or ModelStore(self.settings.models_dir)

    @property
    def store(self) -> FaceStore:
        """The collections database, opened on first use: a script that only runs
        non-storage operations leaves nothing on disk."""
        with self._store_lock:
            if self._store is None:
                self.settings.data_dir.mkdir(parents=True, exist_ok=True)
                self._store = open_face_store(self.settings.database)
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

    @overload
    def similarity(self, cosine: float, version: str) -> float: ...
    @overload
    def similarity(self, cosine: np.ndarray, version: str) -> np.ndarray: ...
    def similarity(self, cosine: float | np.ndarray, version: str) -> float | np.ndarray:
        return similarity_scale.similarity(cosine, version)

    def min_cosine(self, threshold: float, version: str) -> float:
        return similarity_scale.min_cosine(threshold, version)

    def load_image(self, image: dict[str, Any], limits: ImageLimits = DEFAULT_LIMITS) -> LoadedImage:
        """The one door for pixels: bytes or S3 object, within the operation's limits."""
        return decode_image(self.images.read(image, limits), limits, self.decode_budget)

    def close(self, wait_for_jobs: bool = False) -> None:
        streams = self._stream_processors.built()
        if streams is not None:
            streams.close()
        custom_labels = self._custom_labels.built()
        if custom_labels is not None:
            custom_labels.close()
        jobs = self._video_jobs.built()
        if jobs is not None:
            jobs.close(wait_for_jobs)
        if self._store is not None:
            self._store.close()
        gallery = self._celebrities.built()
        if gallery is not None:
            gallery.close()
        liveness = self._liveness.built()
        if liveness is not None:
            liveness.close()

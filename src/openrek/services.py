"""Services: everything handlers use, built once from Settings at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openrek.config import Settings
from openrek.imaging.decode import LoadedImage, decode_image
from openrek.imaging.source import MAX_BYTES, ImageSource
from openrek.inference.faces.age_gender import AgeGender
from openrek.inference.faces.analyzer import FaceAnalyzer
from openrek.inference.faces.detector import YuNetDetector
from openrek.inference.faces.emotion import EmotionClassifier
from openrek.inference.faces.mesh import FaceMesh
from openrek.inference.session import open_session
from openrek.inference.store import ModelStore

FACE_MODELS = (
    "face-detector",
    "face-landmarks",
    "face-blendshapes",
    "face-age",
    "face-gender",
    "face-emotion",
)


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


@dataclass
class Services:
    settings: Settings
    images: ImageSource
    faces: FaceAnalyzer

    @classmethod
    def start(cls, settings: Settings) -> Services:
        """Load every model once; a missing or corrupt one stops start-up here."""
        store = ModelStore(settings.models_dir)
        return cls(
            settings=settings,
            images=ImageSource(settings.s3_dir, settings.s3_endpoint_url),
            faces=build_face_analyzer(store, settings),
        )

    def load_image(self, image: dict[str, Any], max_bytes: int = MAX_BYTES) -> LoadedImage:
        return decode_image(self.images.read(image, max_bytes))

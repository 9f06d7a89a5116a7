"""Two face models side by side: each collection keeps the FaceModelVersion it was made with.

FaceModelVersion 1.0 (SFace, Apache-2.0) is the default; 2.0 (ArcFace MobileFaceNet on
WebFace600K, non-commercial weights) is opt-in: pulled only when named, and chosen for
new collections by OPENREK_FACE_MODEL_VERSION. Real `openrek serve` processes share one
data dir here, as a user upgrading in place would run them:

- a default server makes collection A (1.0); a server started with version 2.0 makes
  collection B; both index the same photos, and each collection is searched, indexed
  into and described with its own model whichever server answers;
- a server whose models dir lacks the 2.0 model still serves A and answers a clear
  AWS-shaped error for B.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from openrek.inference.faces.embedder import (
    PREPROCESSING,
    TEMPLATE,
    FaceEmbedder,
    alignment_matrix,
)
from openrek.inference.faces.similarity import SCALES, min_cosine, similarity
from openrek.inference.session import RuntimeSettings, open_session
from openrek.models.store import ModelStore
from openrek.services import FACE_EMBEDDING_MODELS
from tests.conftest import ServerProcess, rekognition_client
from tests.shapes import assert_valid_output

ARCFACE = "face-embedding-arcface-mbf"
PEOPLE = {"obama": "face_recognition/obama.jpg", "biden": "face_recognition/biden.jpg"}
PROBE = "face_recognition/obama2.jpg"
DIMENSION = {"1.0": 128, "2.0": 512}


def image(photos: Path, name: str) -> dict[str, bytes]:
    return {"Bytes": (photos / name).read_bytes()}


def obama_match(found: dict[str, Any]) -> dict[str, Any]:
    """The match of obama.jpg; biden never matches (other tests may add obama2 itself)."""
    people = {m["Face"]["ExternalImageId"]: m for m in found["FaceMatches"]}
    assert "biden" not in people and "obama" in people, people
    return dict(people["obama"])


def error_of(call: Callable[..., Any], **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return dict(caught.value.response["Error"])


@pytest.fixture(scope="module")
def arcface_models(models: ModelStore) -> ModelStore:
    """The default models plus the opt-in 2.0 embedding model, in the shared models dir."""
    store = ModelStore(models.models_dir)
    store.pull([ARCFACE], progress=lambda _m: None)
    store.verify([ARCFACE])
    return store


@dataclass
class Deployment:
    data_dir: Path
    default: ServerProcess  # started with default settings: new collections are 1.0
    upgraded: ServerProcess  # OPENREK_FACE_MODEL_VERSION=2.0, same data dir
    a: str  # collection made by `default`
    b: str  # collection made by `upgraded`

    def clients(self) -> tuple[Any, Any]:
        return rekognition_client(self.default.url), rekognition_client(self.upgraded.url)


def index_people(rekognition: Any, collection_id: str, photos: Path) -> None:
    for person, name in PEOPLE.items():
        indexed = rekognition.index_faces(
            CollectionId=collection_id, Image=image(photos, name), ExternalImageId=person
        )
        assert len(indexed["FaceRecords"]) == 1, name


@pytest.fixture(scope="module")
def deployment(
    arcface_models: ModelStore, photos: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    data_dir = tmp_path_factory.mktemp("versions") / "data"
    default = ServerProcess(data_dir)
    upgraded = None
    try:
        # Collection A exists before the second server starts, as after a real upgrade.
        old = rekognition_client(default.url)
        a = f"versions-a-{uuid.uuid4().hex[:8]}"
        assert old.create_collection(CollectionId=a)["FaceModelVersion"] == "1.0"
        index_people(old, a, photos)
        upgraded = ServerProcess(data_dir, env={"OPENREK_FACE_MODEL_VERSION": "2.0"})
        new = rekognition_client(upgraded.url)
        b = f"versions-b-{uuid.uuid4().hex[:8]}"
        created = new.create_collection(CollectionId=b)
        assert_valid_output("CreateCollection", created)
        assert created["FaceModelVersion"] == "2.0"
        index_people(new, b, photos)
        yield Deployment(data_dir, default, upgraded, a, b)
    finally:
        default.stop()
        if upgraded is not None:
            upgraded.stop()


@pytest.mark.needs_server
def test_each_collection_reports_its_own_version(deployment: Deployment) -> None:
    for rekognition in deployment.clients():
        for collection_id, version in ((deployment.a, "1.0"), (deployment.b, "2.0")):
            described = rekognition.describe_collection(CollectionId=collection_id)
            assert_valid_output("DescribeCollection", described)
            assert described["FaceModelVersion"] == version
            assert described["FaceCount"] >= len(PEOPLE)
        listed = rekognition.list_collections()
        versions = dict(zip(listed["CollectionIds"], listed["FaceModelVersions"], strict=True))
        assert versions[deployment.a] == "1.0" and versions[deployment.b] == "2.0"


@pytest.mark.needs_server
def test_search_finds_the_person_in_both_versions_from_either_server(
    deployment: Deployment, photos: Path
) -> None:
    # Whichever server answers, a collection is searched with the model it was built with.
    for rekognition in deployment.clients():
        for collection_id, version in ((deployment.a, "1.0"), (deployment.b, "2.0")):
            found = rekognition.search_faces_by_image(CollectionId=collection_id, Image=image(photos, PROBE))
            assert_valid_output("SearchFacesByImage", found)
            assert found["FaceModelVersion"] == version
            obama = obama_match(found)
            assert obama["Similarity"] > 90
            assert obama["Face"]["IndexFacesModelVersion"] == version


@pytest.mark.needs_server
def test_index_faces_uses_the_collection_version_not_the_server_default(
    deployment: Deployment, photos: Path
) -> None:
    old, new = deployment.clients()
    # The 2.0 server indexing into A, and the 1.0 server indexing into B.
    for rekognition, collection_id, version in ((new, deployment.a, "1.0"), (old, deployment.b, "2.0")):
        indexed = rekognition.index_faces(
            CollectionId=collection_id, Image=image(photos, PROBE), ExternalImageId="obama-again"
        )
        assert_valid_output("IndexFaces", indexed)
        assert indexed["FaceModelVersion"] == version
        assert [r["Face"]["IndexFacesModelVersion"] for r in indexed["FaceRecords"]] == [version]
        faces = rekognition.list_faces(CollectionId=collection_id)["Faces"]
        assert {f["IndexFacesModelVersion"] for f in faces} == {version}


@pytest.mark.needs_server
def test_vectors_of_two_versions_have_different_dimensions(deployment: Deployment) -> None:
    # Read the store itself: A holds only 128-d SFace vectors, B only 512-d ArcFace ones,
    # so no search can ever compare one against the other.
    uri = f"file:{deployment.data_dir / 'openrek.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        for collection_id, version in ((deployment.a, "1.0"), (deployment.b, "2.0")):
            pk, dimension, stored_version = conn.execute(
                "SELECT pk, dimension, face_model_version FROM collections WHERE collection_id = ?",
                (collection_id,),
            ).fetchone()
            assert stored_version == version and dimension == DIMENSION[version]
            sizes = {
                row[0]
                for row in conn.execute("SELECT length(vector) FROM faces WHERE collection_pk = ?", (pk,))
            }
            assert sizes == {4 * DIMENSION[version]}  # float32


@pytest.fixture(scope="module")
def default_models_only(arcface_models: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models dir with every default model and without the opt-in 2.0 one."""
    folder = tmp_path_factory.mktemp("default-models")
    for name in arcface_models.default_names:
        shutil.copy2(arcface_models.path(name), folder / arcface_models.entries[name].file)
    assert not (folder / arcface_models.entries[ARCFACE].file).exists()
    return folder


@pytest.mark.needs_server
def test_server_without_the_2_0_model_serves_1_0_and_refuses_2_0_clearly(
    deployment: Deployment, default_models_only: Path, photos: Path
) -> None:
    server = ServerProcess(deployment.data_dir, env={"OPENREK_MODELS_DIR": str(default_models_only)})
    try:
        rekognition = rekognition_client(server.url)
        found = rekognition.search_faces_by_image(CollectionId=deployment.a, Image=image(photos, PROBE))
        assert obama_match(found)["Similarity"] > 90
        # B's metadata and faces stay readable; only embedding needs the model.
        assert rekognition.describe_collection(CollectionId=deployment.b)["FaceModelVersion"] == "2.0"
        assert rekognition.list_faces(CollectionId=deployment.b)["Faces"]
        for call in (rekognition.search_faces_by_image, rekognition.index_faces):
            error = error_of(call, CollectionId=deployment.b, Image=image(photos, PROBE))
            assert error["Code"] == "InvalidParameterException"
            assert "face model 2.0" in error["Message"] and "not installed" in error["Message"]
        assert server.alive()
    finally:
        server.stop()


@pytest.mark.needs_server
def test_choosing_2_0_without_its_model_stops_start_up_with_the_fix(
    default_models_only: Path, tmp_path: Path
) -> None:
    env = {"OPENREK_MODELS_DIR": str(default_models_only), "OPENREK_FACE_MODEL_VERSION": "2.0"}
    with pytest.raises(RuntimeError) as caught:
        ServerProcess(tmp_path / "data", env=env).stop()
    assert ARCFACE in str(caught.value) and "openrek models pull" in str(caught.value)


# --------------------------------------------------------------------------- units


def test_every_version_has_a_model_a_preprocessing_and_a_scale() -> None:
    assert set(FACE_EMBEDDING_MODELS) == set(PREPROCESSING) == set(SCALES) == {"1.0", "2.0"}


def test_optional_model_is_non_commercial_and_not_pulled_by_default() -> None:
    store = ModelStore(Path("unused"))
    entry = store.entries[ARCFACE]
    assert entry.optional and not entry.commercial_use
    assert "non-commercial" in entry.licence
    assert ARCFACE not in store.default_names


def test_2_0_similarity_maps_its_anchors() -> None:
    """docs/similarity.md: 50 at cosine 0.18, 80 at 0.26, 95 at 0.492, fitted by rule on the
    calibration people of bench/data/identity_split.json (bench/face_identity_levers.py)."""
    highest_calibration_impostor, lowest_calibration_genuine = 0.239, 0.492
    assert abs(similarity(0.18, "2.0") - 50.0) < 1e-6
    assert abs(similarity(0.26, "2.0") - 80.0) < 1e-6
    assert abs(similarity(0.492, "2.0") - 95.0) < 1e-6
    assert similarity(highest_calibration_impostor, "2.0") < 80
    assert similarity(lowest_calibration_genuine, "2.0") >= 95 - 1e-6
    # Strangers: the mean impostor (cosine 0.007) far below 50, as on AWS, and even 2.33 sd
    # above it (the 99th percentile of a normal) under 50.
    assert similarity(0.007, "2.0") < 6
    assert similarity(0.007 + 2.33 * 0.066, "2.0") < 50
    assert abs(min_cosine(80, "2.0") - 0.26) < 1e-5
    cosines = np.linspace(-1.0, 1.0, 401)
    scores = similarity(cosines, "2.0")
    assert np.all(np.diff(scores) > 0) and scores[0] == 0.0 and scores[-1] == 100.0
    # 1.0 has a curve of its own (80 at cosine 0.42), so the same cosine differs.
    assert abs(similarity(0.42, "1.0") - 80.0) < 0.05
    assert similarity(0.42, "2.0") > 90


def test_2_0_preprocessing_follows_insightface(arcface_models: ModelStore) -> None:
    """norm_crop's exact template centre; RGB (x - 127.5) / 127.5 into the network."""
    spec = PREPROCESSING["2.0"]
    assert np.allclose(spec.template_mean, TEMPLATE.mean(axis=0))
    # The exact centre maps the template onto itself with the identity transform.
    identity = alignment_matrix(TEMPLATE, TEMPLATE, spec.template_mean)
    assert np.allclose(identity, [[1, 0, 0], [0, 1, 0]], atol=1e-12)
    session = open_session(arcface_models.path(ARCFACE), RuntimeSettings())
    embedder = FaceEmbedder(session, "2.0")
    assert embedder.dimension == 512
    crop = np.random.default_rng(7).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    blob = ((crop.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
    raw = session.run({session.input_names[0]: np.ascontiguousarray(blob)})[0].reshape(-1)
    vector = embedder.embed_aligned(crop)
    assert vector.shape == (512,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert float(vector @ (raw / np.linalg.norm(raw))) > 0.99999
    with pytest.raises(ValueError):
        FaceEmbedder(session, "9.9")

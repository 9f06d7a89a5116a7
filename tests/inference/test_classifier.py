"""The ImageNet classifier (EfficientNet-Lite0 rebuilt as ONNX without torch), the
restricted state-dict unpickler and the WordNet taxonomy, on real photos."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest
from PIL import Image, ImageOps

from openrek.config import Settings
from openrek.inference.labels.classifier import ImageClassifier, build_image_classifier
from openrek.inference.labels.taxonomy import Taxonomy
from openrek.models.convert.torch_pickle import UnsafePickleError, load_state_dict
from openrek.models.store import ModelStore


@pytest.fixture(scope="module")
def label_models() -> ModelStore:
    """Only this area's entries: these tests need nothing else pulled."""
    store = ModelStore(Settings.from_env().models_dir)
    store.pull(["image-classifier", "imagenet-taxonomy"], progress=lambda _m: None)
    return store


@pytest.fixture(scope="module")
def classifier(label_models: ModelStore) -> ImageClassifier:
    return build_image_classifier(label_models, Settings.from_env().runtime)


@pytest.fixture(scope="module")
def taxonomy(label_models: ModelStore) -> Taxonomy:
    return Taxonomy.load(label_models.path("imagenet-taxonomy"))


def rgb_of(path: Path) -> np.ndarray:
    return np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))


# Top classes measured once on the converted graph, whose logits agree within 5e-6
# with an independent float64 numpy forward pass over the same state dict.
EXPECTED_TOP = {
    "skimage/coffee.png": [("espresso", 0.951), ("cup", 0.015), ("consomme", 0.008)],
    "skimage/chelsea.png": [("tiger cat", 0.385), ("Egyptian cat", 0.365), ("tabby", 0.169)],
    "opencv-doc/orange.jpg": [("orange", 0.747), ("lemon", 0.068), ("tennis ball", 0.011)],
    "opencv-doc/baboon.jpg": [("baboon", 0.895)],
}


@pytest.mark.needs_models
@pytest.mark.parametrize("name", sorted(EXPECTED_TOP))
def test_top_classes_of_real_photos(classifier: ImageClassifier, photos: Path, name: str) -> None:
    probabilities = classifier.probabilities(rgb_of(photos / name))
    assert probabilities.shape == (1000,)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    top = classifier.top(probabilities, len(EXPECTED_TOP[name]))
    for (lemma, p), (want_lemma, want_p) in zip(top, EXPECTED_TOP[name], strict=True):
        assert lemma == want_lemma
        assert p == pytest.approx(want_p, abs=0.01)


@pytest.mark.needs_models
def test_batch_equals_single(classifier: ImageClassifier, photos: Path) -> None:
    crops = [rgb_of(photos / "skimage/coffee.png"), rgb_of(photos / "skimage/chelsea.png")]
    batch = classifier.probabilities_batch(crops)
    for crop, row in zip(crops, batch, strict=True):
        np.testing.assert_allclose(classifier.probabilities(crop), row, atol=1e-5)


@pytest.mark.needs_models
def test_concept_mass_adds_up_every_breed(
    classifier: ImageClassifier, taxonomy: Taxonomy, photos: Path
) -> None:
    probabilities = classifier.probabilities(rgb_of(photos / "skimage/chelsea.png"))
    cat_classes = [classifier.wnids[i] for i in taxonomy.concept_classes["Cat"]]
    # tabby, tiger cat, Persian, Siamese, Egyptian cat: every domestic cat class, no big cat
    assert sorted(cat_classes) == ["n02123045", "n02123159", "n02123394", "n02123597", "n02124075"]
    concepts = taxonomy.concept_probabilities(probabilities)
    assert concepts["Cat"] == pytest.approx(float(probabilities[taxonomy.concept_classes["Cat"]].sum()))
    assert concepts["Cat"] > 0.9 > max(probabilities)
    assert concepts["Animal"] >= concepts["Mammal"] >= concepts["Cat"]
    assert len(taxonomy.concept_classes["Dog"]) == 118


@pytest.mark.needs_models
def test_parents_follow_the_vocabulary(taxonomy: Taxonomy) -> None:
    assert set(taxonomy.ancestors["Cat"]) == {"Pet", "Mammal", "Animal"}
    assert set(taxonomy.ancestors["Orange"]) >= {"Citrus Fruit", "Fruit", "Food"}
    assert taxonomy.categories_of("Dog") == ("Animals and Pets",)
    assert taxonomy.coco_concepts["cell phone"] == "Mobile Phone"
    # ImageNet classes no concept names itself become leaf labels under their concepts
    assert "Samoyed" in taxonomy.concepts and "Dog" in taxonomy.ancestors["Samoyed"]


class _Evil:
    def __reduce__(self) -> tuple[object, ...]:
        import os

        return (os.system, ("echo pwned",))


def test_unpickler_refuses_code(tmp_path: Path) -> None:
    data = io.BytesIO()
    parts: tuple[object, ...] = (0x1950A86A20F9469CFC6C, 1001, {}, {"weight": _Evil()}, [])
    for part in parts:
        pickle.dump(part, data, protocol=2)
    with pytest.raises(UnsafePickleError, match="refusing to load global"):
        load_state_dict(data.getvalue())


class _Storage:
    """Stands for a torch storage while pickling (see `torch_file`)."""

    def __init__(self, key: str, values: np.ndarray) -> None:
        self.key, self.values = key, values


def torch_file(
    tensors: dict[str, tuple[np.ndarray, int, tuple[int, ...], tuple[int, ...]]], layout: str
) -> bytes:
    """Bytes laid out as `torch.save` writes a state dict, without torch: stand-in
    `torch` modules let pickle emit the same globals (torch._utils._rebuild_tensor_v2,
    torch.FloatStorage) and persistent ids torch emits. Each tensor is (flat storage,
    offset, size, stride)."""
    import sys
    import types
    import zipfile
    from collections import OrderedDict

    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    float_storage = type("FloatStorage", (), {"__module__": "torch"})

    def _rebuild_tensor_v2(*args: object) -> NoReturn:
        raise AssertionError("never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    float_storage.__qualname__ = "FloatStorage"
    torch.FloatStorage = float_storage  # type: ignore[attr-defined]
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]

    class Tensor:
        def __init__(
            self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
        ) -> None:
            self.args: tuple[object, ...] = (storage, offset, size, stride, False, OrderedDict())

        def __reduce__(self) -> tuple[object, ...]:
            return (_rebuild_tensor_v2, self.args)

    storages = {f"s{i}": _Storage(f"s{i}", values) for i, (values, *_r) in enumerate(tensors.values())}
    state = OrderedDict(
        (name, Tensor(storages[f"s{i}"], offset, size, stride))
        for i, (name, (_v, offset, size, stride)) in enumerate(tensors.items())
    )

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> tuple[object, ...] | None:
            if isinstance(obj, _Storage):
                return ("storage", float_storage, obj.key, "cpu", obj.values.size)
            return None

    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        body = io.BytesIO()
        Pickler(body, protocol=2).dump(state)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    if layout == "zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("archive/data.pkl", body.getvalue())
            for key, storage in storages.items():
                archive.writestr(f"archive/data/{key}", storage.values.astype("<f4").tobytes())
        return out.getvalue()
    legacy = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, legacy, protocol=2)
    legacy.write(body.getvalue())
    pickle.dump(list(storages), legacy, protocol=2)
    for storage in storages.values():
        legacy.write(np.int64(storage.values.size).tobytes())
        legacy.write(storage.values.astype("<f4").tobytes())
    return legacy.getvalue()


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_state_dict_layouts_and_strided_views(layout: str) -> None:
    flat = np.arange(12, dtype=np.float32)
    data = torch_file(
        {
            "conv.weight": (flat, 0, (3, 4), (4, 1)),
            "transposed": (flat, 0, (4, 3), (1, 4)),  # a view with non-contiguous strides
            "tail": (np.arange(5, dtype=np.float32), 2, (3,), (1,)),  # offset into its storage
        },
        layout,
    )
    tensors = load_state_dict(data)
    np.testing.assert_array_equal(tensors["conv.weight"], flat.reshape(3, 4))
    np.testing.assert_array_equal(tensors["transposed"], flat.reshape(3, 4).T)
    np.testing.assert_array_equal(tensors["tail"], [2.0, 3.0, 4.0])

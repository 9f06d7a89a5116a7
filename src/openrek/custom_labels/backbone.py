"""The frozen backbone Custom Labels trains its heads on: the EfficientNet-Lite0 that
DetectLabels already carries (`image-classifier`), without its ImageNet layer.

The stored model (pinned by SHA-256, verified here) answers ImageNet logits at
224x224. Its graph is only convolutions, clips and adds before a global average
pool, so it is opened a second time, in memory, with two changes: the input's height
and width are left free (the detector reads a larger image), and two inner tensors
become outputs: `features` (the pooled 1280 numbers an image-level head reads) and
the 1280-channel feature map before pooling (one cell per 32x32 pixels, which the
detector's windows are pooled from). No weights change; the file on disk is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from openrek.inference.session import RuntimeSettings
from openrek.models.store import ModelStore

MODEL = "image-classifier"
IMAGE_SIDE = 224  # image-level features: the whole image, squashed to the trained size
FEATURES = "features"
FEATURE_MAP = "_conv_head_out_relu6"
CELL = 32  # pixels per feature-map cell


def _normalised(rgb: np.ndarray, side: int) -> np.ndarray:
    """HxWx3 uint8 -> 3 x side x side float32, scaled as the model was trained ((x-127)/128).
    The whole image is squashed, not cropped: a custom label may sit at an edge."""
    image = Image.fromarray(np.ascontiguousarray(rgb[..., :3]))
    image = image.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    scaled = (np.asarray(image, dtype=np.float32) - 127.0) / 128.0
    return scaled.transpose(2, 0, 1)


@dataclass
class Backbone:
    session: object  # onnxruntime.InferenceSession

    def features(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, 1280) pooled features of N whole images."""
        batch = np.stack([_normalised(rgb, IMAGE_SIDE) for rgb in images])
        (pooled,) = self.session.run([FEATURES], {"image": batch})  # type: ignore[attr-defined]
        return np.asarray(pooled, dtype=np.float32)

    def feature_map(self, rgb: np.ndarray, side: int) -> np.ndarray:
        """(side/32, side/32, 1280): the image squashed to side x side, one row per cell."""
        batch = _normalised(rgb, side)[None]
        (cells,) = self.session.run([FEATURE_MAP], {"image": batch})  # type: ignore[attr-defined]
        return np.asarray(cells[0], dtype=np.float32).transpose(1, 2, 0)


def build_backbone(store: ModelStore, runtime: RuntimeSettings) -> Backbone:
    import onnx
    import onnxruntime as ort

    store.verify([MODEL])
    model = onnx.load(str(store.path(MODEL)))
    graph = model.graph
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    existing = {output.name for output in graph.output}
    for name in (FEATURES, FEATURE_MAP):
        if name not in existing:
            graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.intra_op_num_threads = runtime.intra_op_threads
    options.inter_op_num_threads = runtime.inter_op_threads
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return Backbone(session)

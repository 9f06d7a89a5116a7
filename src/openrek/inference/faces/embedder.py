"""Identity embeddings, one model per FaceModelVersion, run through onnxruntime.

Version 1.0 is SFace (OpenCV Zoo, Apache-2.0), the default; version 2.0 is ArcFace
MobileFaceNet trained on WebFace600K (InsightFace's `w600k_mbf.onnx`, weights for
non-commercial research only), pulled only on request. Both take a 112x112 crop
aligned on the same five-point template; they differ in small details held by a
per-version `Preprocessing` (below), so one `FaceEmbedder` serves both.

SFace was trained on faces aligned by OpenCV's `FaceRecognizerSF.alignCrop`: a
least-squares similarity transform (rotation, uniform scale, translation; no
reflection) maps the five detector points onto a fixed 112x112 template, and the
image is warped with bilinear sampling and black borders. The same five-point
template is used by ArcFace-style models. The network takes RGB pixels in 0-255
(it subtracts 127.5 and scales by 1/128 itself) and returns a 128-d vector that
is compared by cosine, so the vector is L2-normalised here and stored as such.

The alignment is reproduced with numpy + cv2.warpAffine rather than calling
`cv2.FaceRecognizerSF`, because that class is missing from OpenCV 5 and wants the
model file in its own DNN runtime; tests check pixel agreement with alignCrop.

The detector sees every image scaled into a 640-px canvas, so in a large photo a
face may be 50-70 px there and its five points are off by several image pixels,
which bends the crop enough to cost identity: on the face-api group photos one
woman photographed twice scored cosine 0.14 with those points and 0.67 with
refined ones (bench/face_identity_accuracy.py). `detector.refine_points` runs the detector
again on a window three face-widths wide, where the face fills a third of the
canvas, and every embedding should be taken from its result.

Version 2.0 follows InsightFace's own code (insightface 0.7.3 sdist on PyPI):
`utils/face_align.norm_crop` fits the same template with scikit-image's
`SimilarityTransform.estimate` (Umeyama, centred on the template's exact mean) and
warps with cv2.warpAffine defaults (bilinear, black border); `ArcFaceONNX.get_feat`
then builds the blob with `cv2.dnn.blobFromImages(..., 1/127.5, mean 127.5,
swapRB=True)` from a BGR crop, i.e. RGB pixels mapped by (x - 127.5) / 127.5. The
mean/std choice there is made by looking for Sub/Mul nodes at the graph's start;
w600k_mbf.onnx begins with Conv, so normalisation is ours to do. Its 512-d output is
L2-normalised as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.session import Session

CROP_SIZE = 112
# The 5-point template of alignCrop, in pixels of the 112x112 crop: image-left eye,
# image-right eye, nose tip, image-left and image-right mouth corners.
TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
# alignCrop centres the template on its mean rounded to 4 decimals; using the same
# numbers halves the (already rare, +-1..3 level) pixel differences from alignCrop.
TEMPLATE_MEAN = np.array([56.0262, 71.9008])


def alignment_matrix(
    points: np.ndarray, template: np.ndarray = TEMPLATE, template_mean: np.ndarray = TEMPLATE_MEAN
) -> np.ndarray:
    """2x3 similarity transform taking the image `points` (5, 2) onto `template`.

    Umeyama's closed form, as alignCrop computes it: centre both point sets, take
    the SVD of their cross-covariance, forbid a reflection by flipping the weaker
    axis when the determinant is negative, then scale = trace(S D) / source variance.
    """
    src = np.asarray(points, dtype=np.float64).reshape(5, 2)
    dst = np.asarray(template, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), np.asarray(template_mean, dtype=np.float64)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(covariance) < 0:
        sign[1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    variance = float((src_c**2).sum(axis=1).mean())
    scale = float(singular @ sign) / variance if variance > 0 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align_crop(
    image_rgb: np.ndarray, five_points: np.ndarray, template_mean: np.ndarray = TEMPLATE_MEAN
) -> np.ndarray:
    """The 112x112 aligned crop, cut from the full-resolution image (SFace's by default)."""
    matrix = alignment_matrix(five_points, TEMPLATE, template_mean)
    return cv2.warpAffine(
        image_rgb,
        matrix,
        (CROP_SIZE, CROP_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


@dataclass(frozen=True)
class Preprocessing:
    """What one embedding model wants between the five points and its input tensor."""

    # Where the least-squares fit centres the template (the crop's pixels depend on it).
    template_mean: np.ndarray
    # The network sees (rgb - pixel_mean) * pixel_scale, as float32 NCHW.
    pixel_mean: float
    pixel_scale: float


# SFace normalises inside the graph, so it gets raw 0-255 pixels and alignCrop's centre.
SFACE = Preprocessing(template_mean=TEMPLATE_MEAN, pixel_mean=0.0, pixel_scale=1.0)
# ArcFace (InsightFace): norm_crop's exact template centre, then (x - 127.5) / 127.5.
ARCFACE = Preprocessing(template_mean=TEMPLATE.mean(axis=0), pixel_mean=127.5, pixel_scale=1.0 / 127.5)
# FaceModelVersion -> preprocessing of its embedding model (services.FACE_EMBEDDING_MODELS).
PREPROCESSING: dict[str, Preprocessing] = {"1.0": SFACE, "2.0": ARCFACE}


class FaceEmbedder:
    """Turns a face (image + five points) into a unit vector for cosine comparison."""

    def __init__(self, session: Session, version: str) -> None:
        if version not in PREPROCESSING:
            raise ValueError(f"no preprocessing known for face model version {version!r}")
        self._session = session
        self._input = session.input_names[0]
        self.version = version
        self.preprocessing = PREPROCESSING[version]
        probe = session.run({self._input: np.zeros((1, 3, CROP_SIZE, CROP_SIZE), np.float32)})
        self.dimension = int(probe[0].shape[-1])

    def embed(self, image_rgb: np.ndarray, five_points: np.ndarray) -> np.ndarray:
        """L2-normalised float32 embedding of the face whose points are given.

        `image_rgb` is HxWx3 uint8 RGB (a greyscale HxW image is accepted and
        repeated to three channels); `five_points` is (5, 2) in its pixels, in the
        detector's order.
        """
        if image_rgb.ndim == 2:
            image_rgb = np.repeat(image_rgb[:, :, None], 3, axis=2)
        crop = align_crop(image_rgb, five_points, self.preprocessing.template_mean)
        return self.embed_aligned(crop)

    def embed_aligned(self, crop_rgb: np.ndarray) -> np.ndarray:
        """Embedding of an already aligned 112x112 RGB crop."""
        if crop_rgb.shape[:2] != (CROP_SIZE, CROP_SIZE):
            raise ValueError(f"an aligned crop is {CROP_SIZE}x{CROP_SIZE}, got {crop_rgb.shape}")
        blob = np.ascontiguousarray(crop_rgb.transpose(2, 0, 1)[None], dtype=np.float32)
        spec = self.preprocessing
        # Skipped for SFace so its input stays exactly the 0-255 pixels it was given.
        if spec.pixel_mean != 0.0 or spec.pixel_scale != 1.0:
            blob = (blob - np.float32(spec.pixel_mean)) * np.float32(spec.pixel_scale)
        vector = self._session.run({self._input: blob})[0].reshape(-1).astype(np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

"""TensorFlow's "SAME" padding, written as ONNX padding attributes.

TF pads a window so that the output has ceil(size / stride) positions and, when the
total padding is odd, puts the extra pixel after (bottom, right). ONNX's auto_pad
SAME_UPPER computes the same at run time, but the ONNX spec keeps auto_pad only for
legacy use, so explicit `pads` are written whenever the input size is known at
conversion time; SAME_UPPER is left for inputs whose size is only known at run time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) along one axis of `size` pixels."""
    span = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def same_padding(
    sizes: Sequence[int | None],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int] | None = None,
) -> dict[str, Any]:
    """ONNX attributes for "SAME" over the spatial axes: `pads` (every axis's before,
    then every axis's after, as ONNX orders them) when all sizes are known, else
    `auto_pad` SAME_UPPER."""
    known = [size for size in sizes if size is not None]
    if len(known) != len(sizes):
        return {"auto_pad": "SAME_UPPER"}
    steps = dilations or [1] * len(known)
    per_axis = [same_pads(*axis) for axis in zip(known, kernel, strides, steps, strict=True)]
    return {"pads": [before for before, _ in per_axis] + [after for _, after in per_axis]}

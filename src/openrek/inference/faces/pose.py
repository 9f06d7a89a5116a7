"""Head pose (roll, yaw, pitch) from the 3D face mesh.

Frame: the mesh is x right, y down (image pixels) and z away from the camera
(MediaPipe: smaller z is nearer), a right-handed camera frame. The face's own axes
are built from landmarks whose canonical positions (MediaPipe's canonical face
model) lie on exact axes: the symmetric pairs below differ only in x, and
forehead top (10) to chin (152) is vertical to within 0.7 degrees. A frontal,
upright face therefore reads (0, 0, 0).

Sign convention. Amazon Rekognition documents only the range (-180..180 degrees,
API_Pose). Its one public statement of signs (AWS re:Post, "head pose unit of
yaw pitch roll point of view") takes the camera as the reference: negative pitch
when the camera faces up at the face, positive when it faces down; negative yaw
when the camera faces left, positive when it faces right. Read as where the face
appears to look in the picture, that is:

* yaw > 0: the face turns towards the image's right (the subject's own left);
* pitch > 0: the face tilts down (chin towards the chest);
* roll > 0: the face is rotated clockwise in the image (the image-right eye is
  lower). AWS states nothing for roll; this follows image coordinates.

Mirroring an image flips the signs of yaw and roll and leaves pitch.
"""

from __future__ import annotations

import numpy as np

# (subject's right, subject's left) landmark pairs: outer eye corners, inner eye
# corners, cheek edges, mouth corners. The subject's right is on the image left.
_SYMMETRIC_PAIRS = np.array([[33, 263], [133, 362], [234, 454], [61, 291]], dtype=np.int64)
_FOREHEAD, _CHIN = 10, 152


def face_axes(points: np.ndarray) -> np.ndarray:
    """3x3 rotation whose columns are the face's right, down and backward axes."""
    pts = np.asarray(points, dtype=np.float64)[:, :3]
    across = (pts[_SYMMETRIC_PAIRS[:, 1]] - pts[_SYMMETRIC_PAIRS[:, 0]]).sum(axis=0)
    x_axis = across / np.linalg.norm(across)
    down = pts[_CHIN] - pts[_FOREHEAD]
    down = down - x_axis * float(down @ x_axis)  # Gram-Schmidt: square to the eye line
    y_axis = down / np.linalg.norm(down)
    z_axis = np.cross(x_axis, y_axis)
    return np.stack([x_axis, y_axis, z_axis], axis=1)


def head_pose(points: np.ndarray) -> tuple[float, float, float]:
    """(roll, yaw, pitch) in degrees of a (478, 3) mesh, signed as in the module doc."""
    rotation = face_axes(points)
    # Decompose rotation = Ry(b) @ Rx(a) @ Rz(c): roll (about the camera axis) is
    # applied first, in the face's own plane, so the backward axis depends only
    # on yaw and pitch: z_axis = (cos a sin b, -sin a, cos a cos b).
    zx, zy, zz = rotation[:, 2]
    b = np.arctan2(zx, zz)
    a = np.arctan2(-zy, np.hypot(zx, zz))
    cos_b, sin_b, cos_a, sin_a = np.cos(b), np.sin(b), np.cos(a), np.sin(a)
    ry = np.array([[cos_b, 0.0, sin_b], [0.0, 1.0, 0.0], [-sin_b, 0.0, cos_b]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cos_a, -sin_a], [0.0, sin_a, cos_a]])
    rz = (ry @ rx).T @ rotation
    c = np.arctan2(rz[1, 0], rz[0, 0])
    # A backward axis with negative x (b < 0) means the nose points to the image
    # right: positive yaw. A backward axis with negative y (a > 0) means the nose
    # points down: positive pitch. c > 0 turns the eye line clockwise.
    roll, yaw, pitch = np.degrees(c), -np.degrees(b), np.degrees(a)
    return float(roll), float(yaw), float(pitch)

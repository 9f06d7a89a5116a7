"""Hostile and unusual images: each gets the right AWS error and the server keeps serving."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from tests.conftest import ServerProcess


def png(width: int, height: int, colour: tuple[int, int, int] = (120, 90, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A ~100 KB 1-bit PNG whose header declares side x side pixels (900 megapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(side // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def error_code(client: Any, image: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as caught:
        client.detect_faces(Image=image)
    return str(caught.value.response["Error"]["Code"])


def hostile_cases(photos: Path) -> list[tuple[str, bytes, str]]:
    jpeg = (photos / "face_recognition/obama.jpg").read_bytes()
    gif = io.BytesIO()
    Image.new("RGB", (200, 200)).save(gif, "GIF")
    rng = np.random.default_rng(7)
    return [
        ("truncated JPEG", jpeg[: len(jpeg) // 3], "InvalidImageFormatException"),
        (
            "random bytes",
            rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
            "InvalidImageFormatException",
        ),
        ("JPEG header only", jpeg[:200], "InvalidImageFormatException"),
        ("GIF", gif.getvalue(), "InvalidImageFormatException"),
        ("empty", b"", "ValidationException"),
        ("PNG bomb", png_bomb(), "ImageTooLargeException"),
        ("over 10000 px a side", png(10_001, 80), "ImageTooLargeException"),
        ("under 80 px a side", png(79, 400), "InvalidParameterException"),
        ("5 MiB + 1 byte", jpeg + bytes(5 * 1024 * 1024 + 1 - len(jpeg)), "ValidationException"),
    ]


def test_hostile_images_get_aws_errors_and_server_survives(
    server: ServerProcess, unvalidated: Any, photos: Path
) -> None:
    for name, data, expected in hostile_cases(photos):
        assert error_code(unvalidated, {"Bytes": data}) == expected, name
        assert server.alive(), f"server died after {name}"
    # And it still answers a good request.
    ok = unvalidated.detect_faces(Image={"Bytes": (photos / "face_recognition/obama.jpg").read_bytes()})
    assert len(ok["FaceDetails"]) == 1


def test_exactly_5_mib_is_accepted(unvalidated: Any, photos: Path) -> None:
    jpeg = (photos / "face_recognition/obama.jpg").read_bytes()
    padded = jpeg + bytes(5 * 1024 * 1024 - len(jpeg))  # JPEG decoders ignore trailing bytes
    assert len(unvalidated.detect_faces(Image={"Bytes": padded})["FaceDetails"]) == 1


def test_exif_orientation_is_applied(rekognition: Any, photos: Path) -> None:
    upright = Image.open(photos / "face_recognition/obama.jpg")
    # Store the pixels rotated and say so in EXIF (orientation 6: rotate 90 CW to view).
    rotated = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    rotated.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    (face,) = rekognition.detect_faces(Image={"Bytes": out.getvalue()})["FaceDetails"]
    marks = {m["Type"]: m for m in face["Landmarks"]}
    # Upright: eyes level and above the mouth, as in the original photo.
    assert abs(marks["eyeLeft"]["Y"] - marks["eyeRight"]["Y"]) < 0.05
    assert marks["eyeLeft"]["Y"] < marks["mouthLeft"]["Y"]
    assert face["BoundingBox"]["Height"] > 0.2  # ratios of the upright 910x1137 frame


def test_png_with_alpha_and_greyscale(rekognition: Any, photos: Path) -> None:
    photo = Image.open(photos / "face_recognition/obama.jpg")
    for mode in ("RGBA", "L", "LA"):
        out = io.BytesIO()
        photo.convert(mode).save(out, "PNG")
        assert len(rekognition.detect_faces(Image={"Bytes": out.getvalue()})["FaceDetails"]) == 1, mode


def test_s3_object_errors(rekognition: Any, server: ServerProcess) -> None:
    missing = {"S3Object": {"Bucket": "nobucket", "Name": "nothing.jpg"}}
    assert error_code(rekognition, missing) == "InvalidS3ObjectException"
    escape = {"S3Object": {"Bucket": "photos", "Name": "../../../../etc/passwd"}}
    assert error_code(rekognition, escape) == "InvalidS3ObjectException"
    big = server.data_dir / "s3" / "photos" / "big.jpg"
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_bytes(bytes(15 * 1024 * 1024 + 1))
    assert (
        error_code(rekognition, {"S3Object": {"Bucket": "photos", "Name": "big.jpg"}})
        == "ImageTooLargeException"
    )
    assert server.alive()


def test_both_or_neither_image_source(unvalidated: Any) -> None:
    both = {"Bytes": b"abc", "S3Object": {"Bucket": "bucket", "Name": "k"}}
    assert error_code(unvalidated, both) == "InvalidParameterException"
    assert error_code(unvalidated, {}) == "InvalidParameterException"


def test_mutated_jpegs_never_crash_the_decoder(photos: Path) -> None:
    """Random byte flips in a JPEG with EXIF: an image or an AWS image error, never a 500."""
    from openrek.imaging.decode import decode_image
    from openrek.protocol.errors import InternalServerError, RekognitionError

    photo = Image.open(photos / "face_recognition/obama.jpg").convert("RGB").resize((120, 150))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "openrek"
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif.tobytes())
    original = out.getvalue()
    rng = np.random.default_rng(11)
    for _ in range(400):
        data = bytearray(original)
        for at in rng.integers(2, 400, size=int(rng.integers(1, 6))):  # header and EXIF
            data[at] = int(rng.integers(0, 256))
        try:
            decode_image(bytes(data))
        except RekognitionError as error:
            assert not isinstance(error, InternalServerError)


def test_s3_keys_the_file_system_cannot_hold(rekognition: Any) -> None:
    for key in ("a\u0000b.jpg", "x" * 300 + ".jpg"):
        assert (
            error_code(rekognition, {"S3Object": {"Bucket": "photos", "Name": key}})
            == "InvalidS3ObjectException"
        )


def test_16_bit_png_and_phone_mpo_find_the_face(rekognition: Any, photos: Path) -> None:
    """Valid images that were once answered wrongly: a 16-bit greyscale PNG (clipped to
    white, no face) and an MPO JPEG (refused as an invalid format)."""
    photo = Image.open(photos / "face_recognition/obama.jpg")
    grey16 = (np.asarray(photo.convert("L")).astype(np.uint16) * 257).astype(np.uint16)
    rgb16 = (np.asarray(photo)[:, :, ::-1].astype(np.uint16) * 257).astype(np.uint16)
    images = {
        "16-bit grey PNG": cv2.imencode(".png", grey16)[1].tobytes(),
        "16-bit RGB PNG": cv2.imencode(".png", rgb16)[1].tobytes(),
    }
    mpo = io.BytesIO()
    photo.save(mpo, "MPO", save_all=True, append_images=[photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    images["MPO"] = mpo.getvalue()
    for name, data in images.items():
        (face,) = rekognition.detect_faces(Image={"Bytes": data})["FaceDetails"]
        assert face["Confidence"] > 90, name


def huge_flat_png() -> bytes:
    """The largest canvas the API accepts (10000 x 6000), tiny on the wire."""
    canvas = Image.new("L", (10_000, 6_000), 235)
    canvas.paste(40, (1_000, 1_000, 9_000, 5_000))
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


def test_a_60_megapixel_png_is_answered(rekognition: Any) -> None:
    """Analysed at the working size, memory charged to the image budget."""
    image = huge_flat_png()
    assert len(image) < 200_000
    labels = rekognition.detect_labels(Image={"Bytes": image}, Features=["IMAGE_PROPERTIES"])
    brightness = labels["ImageProperties"]["Quality"]["Brightness"]
    assert 0 <= brightness <= 100

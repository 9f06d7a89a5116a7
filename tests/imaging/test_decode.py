"""The image door on images that are valid but unusual: no model needed."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openrek.imaging.budget import PixelBudget
from openrek.imaging.decode import WORKING_MAX_PIXELS, decode_cost, decode_image, draft_scale, working_size
from openrek.imaging.limits import ImageLimits
from openrek.imaging.source import ImageSource
from openrek.protocol.errors import (
    ImageTooLargeException,
    InvalidParameterException,
    InvalidS3ObjectException,
    ProvisionedThroughputExceededException,
)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def gradient16(width: int = 300, height: int = 200) -> np.ndarray:
    return np.tile(np.linspace(0, 65535, width), (height, 1)).astype(np.uint16)


def test_16_bit_grayscale_png_is_scaled_not_clipped() -> None:
    samples = gradient16()
    data = encoded(Image.fromarray(samples), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    rgb = decode_image(data).rgb
    assert rgb.shape == (200, 300, 3)
    # Dark on the left, bright on the right, not clipped to white.
    assert rgb[:, :10].mean() < 10
    assert rgb[:, -10:].mean() > 245
    expected = (samples.astype(np.uint32) >> 8).astype(np.uint8)
    assert np.abs(rgb[..., 0].astype(int) - expected).max() <= 1


def test_mpo_is_read_as_its_first_frame() -> None:
    first = Image.new("RGB", (160, 120), (200, 30, 30))
    second = Image.new("RGB", (160, 120), (30, 30, 200))
    data = encoded(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    loaded = decode_image(data)
    assert loaded.format == "JPEG"
    red, _green, blue = loaded.rgb.reshape(-1, 3).mean(axis=0)
    assert red > 150 and blue < 80


def test_cmyk_and_palette_images_come_out_rgb() -> None:
    cmyk = decode_image(encoded(Image.new("CMYK", (100, 100), (0, 255, 255, 0)), "JPEG"))
    assert cmyk.rgb[50, 50, 0] > 200 and cmyk.rgb[50, 50, 1] < 60
    palette = decode_image(encoded(Image.new("RGB", (100, 100), (10, 200, 10)).convert("P"), "PNG"))
    assert palette.rgb.shape == (100, 100, 3) and palette.rgb[0, 0, 1] > 150


def test_big_photos_are_analysed_at_the_working_size() -> None:
    assert working_size(4096, 4096) == (4096, 4096)
    width, height = working_size(10_000, 6_000)
    assert width * height <= WORKING_MAX_PIXELS and abs(width / height - 10 / 6) < 0.01
    big = Image.new("RGB", (8000, 6000), (90, 120, 150))
    for fmt in ("PNG", "JPEG"):
        loaded = decode_image(encoded(big, fmt))
        assert loaded.width * loaded.height <= WORKING_MAX_PIXELS
        assert abs(loaded.width / loaded.height - 4 / 3) < 0.01


def test_orientation_is_applied_after_downscaling() -> None:
    tall = Image.new("RGB", (6000, 4000), (0, 0, 0))
    tall.paste((255, 255, 255), (0, 0, 3000, 4000))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to view
    loaded = decode_image(encoded(tall, "JPEG", exif=exif))
    assert loaded.height > loaded.width  # turned upright
    assert loaded.rgb[: loaded.height // 4].mean() > 200  # the white half is now on top


def test_operation_limits_travel_through_the_door() -> None:
    ppe = ImageLimits(max_bytes=4 * 1024 * 1024, max_side=4096, min_side=64)
    small = encoded(Image.new("RGB", (70, 70)), "PNG")
    assert decode_image(small, ppe).width == 70
    with pytest.raises(InvalidParameterException):
        decode_image(small)  # 80 px minimum elsewhere
    with pytest.raises(ImageTooLargeException):
        decode_image(encoded(Image.new("L", (5000, 100)), "PNG"), ppe)
    with pytest.raises(ValueError):
        ImageLimits(min_side=100, max_side=50)


def test_a_symlink_loop_in_a_bucket_is_an_s3_error(tmp_path: Path) -> None:
    bucket = tmp_path / "s3" / "bucket"
    bucket.mkdir(parents=True)
    (bucket / "a").symlink_to(bucket / "b")
    (bucket / "b").symlink_to(bucket / "a")
    (bucket / "self").symlink_to(bucket / "self")
    source = ImageSource(tmp_path / "s3")
    for key in ("a", "self", "self/x.jpg"):
        with pytest.raises(InvalidS3ObjectException):
            source.read({"S3Object": {"Bucket": "bucket", "Name": key}})


def test_budget_holds_decodes_within_capacity() -> None:
    budget = PixelBudget(capacity=100, max_waiting=8)
    peak, lock, running = [0], threading.Lock(), [0]

    def decode() -> None:
        with budget.reserve(60):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=decode) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1  # two 60s never fit in 100 at once
    assert budget.in_use == 0


def test_budget_refuses_when_its_queue_is_full() -> None:
    budget = PixelBudget(capacity=10, max_waiting=0, wait_seconds=5)
    with budget.reserve(10), pytest.raises(ProvisionedThroughputExceededException), budget.reserve(1):
        pass
    with budget.reserve(10_000):  # bigger than the whole budget: runs alone
        assert budget.in_use == 10


def test_budget_gives_up_after_its_wait() -> None:
    budget = PixelBudget(capacity=10, max_waiting=4, wait_seconds=0.1)
    with budget.reserve(10), pytest.raises(ProvisionedThroughputExceededException), budget.reserve(5):
        pass
    assert budget.in_use == 0


def test_charges_follow_what_a_decode_holds() -> None:
    full, working = 60_000_000, WORKING_MAX_PIXELS
    rgb = decode_cost("RGB", full, working)
    grey16 = decode_cost("I;16", full, working)
    assert rgb == full * 4 + working * 7
    assert grey16 > rgb  # a 16-bit page is copied once more to reach 8 bits
    assert decode_cost("L", 1000, 1000) < decode_cost("RGB", 1000, 1000)


def test_only_jpegs_well_over_the_working_size_decode_at_reduced_scale() -> None:
    assert draft_scale(10_000, 6_000) == 2  # 15 MP at 1/2: at least 3/4 of the working pixels
    assert draft_scale(4_100, 4_100) == 1  # 1/2 would leave a quarter: decode whole, then resize
    assert draft_scale(1_000, 800) == 1
    photo = Image.new("RGB", (10_000, 6_000), (90, 120, 150))
    photo.paste((250, 250, 250), (0, 0, 5_000, 6_000))
    loaded = decode_image(encoded(photo, "JPEG", quality=80))
    assert (loaded.width, loaded.height) == (5_000, 3_000)
    assert loaded.rgb[:, :2400].mean() > 240 and loaded.rgb[:, 2600:, 2].mean() > 140


def test_budget_serves_waiters_in_arrival_order() -> None:
    """A large charge that arrived first is not passed over by smaller ones that fit."""
    budget = PixelBudget(capacity=100, max_waiting=8, wait_seconds=5)
    order: list[str] = []
    guard = threading.Lock()

    def charge(name: str, amount: int) -> None:
        with budget.reserve(amount):
            with guard:
                order.append(name)
            time.sleep(0.02)

    with budget.reserve(60):  # in use: the large one must wait
        large = threading.Thread(target=charge, args=("large", 90))
        large.start()
        time.sleep(0.05)
        smalls = [threading.Thread(target=charge, args=(f"small{i}", 10)) for i in range(3)]
        for thread in smalls:
            thread.start()
        time.sleep(0.05)
        assert order == []  # small ones fit beside the 60 but queue behind the large one
    for thread in [large, *smalls]:
        thread.join()
    assert order[0] == "large"
    assert budget.in_use == 0

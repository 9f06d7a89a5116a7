"""tools/qt_resources.py reads a Qt resource file laid out as Qt's rcc writes it:
directories, a stored file and a zlib-compressed one."""

from __future__ import annotations

import struct
import zlib

import pytest

from tools.qt_resources import read_resources


def _resource_file(stored: bytes, compressed: bytes) -> bytes:
    """A version-2 .rcc: / -> photos/ -> {a.webp stored, b.txt compressed}."""
    names = b""
    name_offsets = {}
    for name in ("photos", "a.webp", "b.txt"):
        name_offsets[name] = len(names)
        names += struct.pack(">HI", len(name), 0) + name.encode("utf-16-be")
    packed = struct.pack(">I", len(compressed)) + zlib.compress(compressed)  # qCompress: size first
    data = struct.pack(">I", len(stored)) + stored
    second = len(data)
    data += struct.pack(">I", len(packed)) + packed
    modified = struct.pack(">Q", 0)
    tree = struct.pack(">IHII", 0, 2, 1, 1) + modified  # root: one child, at node 1
    tree += struct.pack(">IHII", name_offsets["photos"], 2, 2, 2) + modified  # two children from node 2
    tree += struct.pack(">IHHHI", name_offsets["a.webp"], 0, 0, 0, 0) + modified
    tree += struct.pack(">IHHHI", name_offsets["b.txt"], 1, 0, 0, second) + modified
    header_size = 20
    tree_at, data_at = header_size, header_size + len(tree)
    names_at = data_at + len(data)
    return b"qres" + struct.pack(">IIII", 2, tree_at, data_at, names_at) + tree + data + names


def test_files_come_out_under_their_folders_stored_or_decompressed() -> None:
    files = read_resources(_resource_file(b"RIFF-photo-bytes", b"hello " * 50))
    assert files == {"photos/a.webp": b"RIFF-photo-bytes", "photos/b.txt": b"hello " * 50}


def test_other_files_are_refused() -> None:
    with pytest.raises(ValueError, match="not a Qt resource file"):
        read_resources(b"PK\x03\x04 a zip, not a resource file")

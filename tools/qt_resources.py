"""Read the files out of a compiled Qt resource file (`.rcc`, as `rcc -binary` writes
it), without Qt: GCompris ships its activities' photos inside such files.

Layout (Qt's rcc format, versions 1-3): a 20-byte header `qres`, version, and the
offsets of the tree, the data and the names. The tree is an array of fixed-size
nodes; a directory node names its children's range, a file node the offset of its
data, which is a 4-byte length and the bytes, zlib-compressed (after Qt's own 4-byte
length) when the node's flag says so.
"""

from __future__ import annotations

import struct
import zlib

COMPRESSED, DIRECTORY, COMPRESSED_ZSTD = 0x01, 0x02, 0x04


def read_resources(data: bytes) -> dict[str, bytes]:
    """Every file in the resource file by its path (`a/b/c.webp`)."""
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node_size = 14 if version == 1 else 22  # version 2 added an 8-byte modification time

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", data[names + offset : names + offset + 2])
        start = names + offset + 6  # length, then a 4-byte hash, then UTF-16 characters
        return data[start : start + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}

    def walk(index: int, prefix: str) -> None:
        node = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", data[node : node + 6])
        name = name_at(name_offset) if index else ""
        if flags & DIRECTORY:
            count, first = struct.unpack(">II", data[node + 6 : node + 14])
            for child in range(first, first + count):
                walk(child, f"{prefix}{name}/" if name else prefix)
            return
        (offset,) = struct.unpack(">I", data[node + 10 : node + 14])
        (size,) = struct.unpack(">I", data[payload + offset : payload + offset + 4])
        body = data[payload + offset + 4 : payload + offset + 4 + size]
        if flags & COMPRESSED_ZSTD:
            raise ValueError(f"{prefix}{name}: zstd-compressed resources are not supported")
        files[prefix + name] = zlib.decompress(body[4:]) if flags & COMPRESSED else body

    walk(0, "")
    return files

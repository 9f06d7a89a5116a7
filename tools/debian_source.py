"""Download the upstream tarball of a Debian source package with apt's own tools.

Some upstream example data ships only in Debian's source packages (dlib's example face
photos are in `dlib_19.24+dfsg.orig.tar.bz2`, not in any binary package nor in dlib's
PyPI sdist). This asks apt, under a private configuration, for the source package's
file list (`apt-get source --print-uris`) and fetches the one upstream tarball with
`apt-helper download-file`, which checks apt's SHA-256 for it; the caller then checks
the tarball and every file it takes out against its own pins. Nothing of the machine's
apt set-up changes: the deb-src lines, the package lists and the lock live in a
temporary folder. It needs root (as every apt-get here does) and the Debian archive.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from openrek.models.registry import FetchError

APT_SOURCES = Path("/etc/apt/sources.list.d")
APT_HELPER = "/usr/lib/apt/apt-helper"


def source_lines(sources: Path = APT_SOURCES) -> list[str]:
    """deb-src lines for every Debian archive and suite the machine installs from."""
    lines = []
    for path in sorted(sources.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                key, _, value = line.partition(":")
                if not line.startswith("#") and value.strip():
                    fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    lines.append(f"deb-src {uri} {suite} {fields.get('components', 'main')}")
    if not lines:
        raise FetchError(f"no Debian archive found in {sources}")
    return lines


def _apt(arguments: list[str], options: list[str]) -> str:
    done = subprocess.run(["apt-get", *options, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise FetchError(f"apt-get {' '.join(arguments)} failed: {done.stderr.strip()[-800:]}")
    return done.stdout


def fetch_upstream_tarball(package: str, version: str, name: str, sha256: str, into: Path) -> Path:
    """`name` (e.g. dlib_19.24+dfsg.orig.tar.bz2) of source package `package`=`version`."""
    into.mkdir(parents=True, exist_ok=True)
    target = into / name
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "lists" / "partial").mkdir(parents=True)
        (root / "sources.list").write_text("\n".join(source_lines()) + "\n")
        options = [
            "-o",
            f"Dir::Etc::SourceList={root / 'sources.list'}",
            "-o",
            "Dir::Etc::SourceParts=/dev/null",
            "-o",
            f"Dir::State::Lists={root / 'lists'}",
            "-o",
            "Debug::NoLocking=1",
        ]
        _apt(["update"], options)
        listing = _apt(["source", "--print-uris", "--only-source", f"{package}={version}"], options)
        for line in listing.splitlines():
            parts = shlex.split(line)
            if len(parts) == 4 and parts[1] == name:
                uri, listed = parts[0], parts[3]
                break
        else:
            raise FetchError(f"Debian source {package}={version} lists no {name}")
        if listed.lower() != f"sha256:{sha256}":
            raise FetchError(f"Debian lists {name} as {listed}, not the pinned SHA-256 {sha256}")
        done = subprocess.run(
            [APT_HELPER, "download-file", uri, str(target), f"SHA256:{sha256}"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise FetchError(f"downloading {uri} failed: {done.stderr.strip()[-800:]}")
    return target


def is_safe_member(member: str) -> bool:
    """A relative archive path with no '..' (members are named by our own pins anyway)."""
    return (
        not member.startswith("/")
        and ".." not in Path(member).parts
        and re.match(r"^[\w./+-]+$", member) is not None
    )

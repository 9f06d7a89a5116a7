"""Start-up refuses settings and data it cannot use, in one line, before loading models."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from openrek.config import ConfigurationError, parse_access_keys


def serve(tmp_path: Path, port: str = "1", **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {name: value for name, value in os.environ.items() if name != "OPENREK_ACCESS_KEYS"}
    full_env.update(OPENREK_MODELS_DIR=str(tmp_path / "no-models"), **env)
    return subprocess.run(
        [sys.executable, "-m", "openrek", "serve", "--port", port, "--data-dir", str(tmp_path / "data")],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["", " ", " , ", "AKID", "AKID:", ":secret", "AKID:s,", "A:s, :t"])
def test_unusable_access_keys_stop_start_up(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_access_keys(value)
    result = serve(tmp_path, OPENREK_ACCESS_KEYS=value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("openrek: OPENREK_ACCESS_KEYS must be KEY_ID:SECRET pairs")


def test_good_access_keys_parse() -> None:
    assert parse_access_keys(" AK1:s1 , AK2:s:2 ") == {"AK1": "s1", "AK2": "s:2"}


def test_a_corrupt_database_stops_start_up_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "data" / "openrek.sqlite3"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not a database, only bytes where one should be" * 100)
    before = database.read_bytes()
    result = serve(tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(database) in line and "move it aside" in line
    assert database.read_bytes() == before  # nothing was written over it


def test_a_non_numeric_setting_is_named(tmp_path: Path) -> None:
    result = serve(tmp_path, OPENREK_WORKERS="four")
    assert result.returncode == 2
    assert result.stderr.strip() == "openrek: OPENREK_WORKERS must be a whole number, not 'four'"


def test_a_worker_count_below_one_is_refused(tmp_path: Path) -> None:
    result = serve(tmp_path, OPENREK_WORKERS="0")
    assert result.returncode == 2
    assert result.stderr.strip() == "openrek: OPENREK_WORKERS must be at least 1, not 0"


def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    result = serve(tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"openrek: cannot use {tmp_path / 'data'} as the data directory")


def test_a_database_from_a_newer_openrek_is_left_alone(tmp_path: Path) -> None:
    database = tmp_path / "data" / "openrek.sqlite3"
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA user_version=999")
    result = serve(tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "newer than this openrek" in line and "move it aside" in line


@pytest.mark.parametrize("port", ["70000", "busy"])
def test_a_port_that_cannot_be_listened_on_is_said_before_models_load(tmp_path: Path, port: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        number = str(busy.getsockname()[1]) if port == "busy" else port
        result = serve(tmp_path, port=number)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"openrek: cannot listen on 127.0.0.1:{number}")

"""Start-up refuses settings and data it cannot use, in one line, before loading models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from openrek.config import ConfigurationError, parse_access_keys


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {name: value for name, value in os.environ.items() if name != "OPENREK_ACCESS_KEYS"}
    full_env.update(OPENREK_MODELS_DIR=str(tmp_path / "no-models"), **env)
    return subprocess.run(
        [sys.executable, "-m", "openrek", "serve", "--port", "1", "--data-dir", str(tmp_path / "data")],
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

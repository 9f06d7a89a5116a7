"""Settings, built once at start-up from flags and environment and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openrek.inference.session import RuntimeSettings

DEFAULT_PORT = 8765


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "openrek"


def _default_models_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openrek" / "models"


class ConfigurationError(ValueError):
    """A setting that cannot be used; start-up stops with this message."""


def parse_access_keys(text: str) -> dict[str, str]:
    """`AKID:SECRET,AKID2:SECRET2` -> {AKID: SECRET, ...}.

    Whoever sets OPENREK_ACCESS_KEYS wants requests signed: a value that names no
    usable key must stop start-up, never quietly leave the server open."""
    keys = {}
    for pair in (p.strip() for p in text.split(",")):
        key_id, _, secret = pair.partition(":")
        if not key_id.strip() or not secret.strip():
            raise ConfigurationError(
                "OPENREK_ACCESS_KEYS must be KEY_ID:SECRET pairs, comma separated, each with "
                f"a key id and a secret (got {len(text)} characters that are not); unset it "
                "to accept any signature"
            )
        keys[key_id.strip()] = secret.strip()
    return keys


def _int_setting(env: Mapping[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {env[name]!r}") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=_default_data_dir)
    models_dir: Path = field(default_factory=_default_models_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # With no keys, any signature is accepted (like local emulators).
    access_keys: dict[str, str] = field(default_factory=dict)
    # S3Object images: an S3-compatible endpoint, or files under <data-dir>/s3/<bucket>/<key>.
    s3_endpoint_url: str | None = None
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    # Worker threads that run inference off the event loop.
    inference_workers: int = 4
    # Limits on what one client may hold: seconds to send a request's headers, and
    # its body; connections open at once.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    max_connections: int = 256
    # Bytes of full-size pixels that the decodes in flight may hold at once; a 60 MP
    # PNG takes 240 MB while it is brought down to the size the models read.
    decode_budget_bytes: int = 256 * 1024 * 1024
    # Collection ARNs are written as AWS writes them, with this region and account.
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # The face model new collections are created with (see `openrek models list`).
    face_model_version: str = "1.0"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "openrek.sqlite3"

    @property
    def s3_dir(self) -> Path:
        return self.data_dir / "s3"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {}
        if "OPENREK_DATA_DIR" in env:
            values["data_dir"] = Path(env["OPENREK_DATA_DIR"])
        if "OPENREK_MODELS_DIR" in env:
            values["models_dir"] = Path(env["OPENREK_MODELS_DIR"])
        if "OPENREK_ACCESS_KEYS" in env:
            values["access_keys"] = parse_access_keys(env["OPENREK_ACCESS_KEYS"])
        if "OPENREK_S3_ENDPOINT_URL" in env:
            values["s3_endpoint_url"] = env["OPENREK_S3_ENDPOINT_URL"]
        if "OPENREK_THREADS" in env or "OPENREK_DISABLE_CUDA" in env:
            values["runtime"] = RuntimeSettings(
                intra_op_threads=_int_setting(env, "OPENREK_THREADS") if "OPENREK_THREADS" in env else 0,
                use_cuda=env.get("OPENREK_DISABLE_CUDA", "") not in ("1", "true", "yes"),
            )
        if "OPENREK_FACE_MODEL_VERSION" in env:
            values["face_model_version"] = env["OPENREK_FACE_MODEL_VERSION"]
        if "OPENREK_REGION" in env:
            values["region"] = env["OPENREK_REGION"]
        if "OPENREK_WORKERS" in env:
            values["inference_workers"] = _int_setting(env, "OPENREK_WORKERS")
        for name, key in (
            ("OPENREK_HEADER_TIMEOUT_S", "header_timeout_s"),
            ("OPENREK_BODY_TIMEOUT_S", "body_timeout_s"),
        ):
            if name in env:
                values[key] = float(_int_setting(env, name))
        if "OPENREK_MAX_CONNECTIONS" in env:
            values["max_connections"] = _int_setting(env, "OPENREK_MAX_CONNECTIONS")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

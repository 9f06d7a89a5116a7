"""Settings, built once at start-up from flags and environment and passed down."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openrek.inference.session import RuntimeSettings
from openrek.storage.backends import Database, DatabaseUrlError, parse_database_url

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


def _whole_number(name: str, text: str, minimum: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {value}")
    return value


def _seconds(name: str, text: str) -> float:
    return float(_whole_number(name, text))


def _positive_number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {text!r}") from None
    if not 0 < value < float("inf"):
        raise ConfigurationError(f"{name} must be above 0, not {text}")
    return value


def _text(_name: str, text: str) -> str:
    return text


def _path(_name: str, text: str) -> Path:
    return Path(text)


# Environment variable -> (Settings field, how its text is read).
_ENVIRONMENT: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "OPENREK_DATA_DIR": ("data_dir", _path),
    "OPENREK_DATABASE_URL": ("database_url", _text),
    "OPENREK_MODELS_DIR": ("models_dir", _path),
    "OPENREK_ACCESS_KEYS": ("access_keys", lambda _name, text: parse_access_keys(text)),
    "OPENREK_S3_ENDPOINT_URL": ("s3_endpoint_url", _text),
    "OPENREK_SNS_ENDPOINT_URL": ("sns_endpoint_url", _text),
    "OPENREK_KINESIS_ENDPOINT_URL": ("kinesis_endpoint_url", _text),
    "OPENREK_FACE_MODEL_VERSION": ("face_model_version", _text),
    "OPENREK_REGION": ("region", _text),
    "OPENREK_WORKERS": ("inference_workers", _whole_number),
    "OPENREK_MAX_QUEUED_REQUESTS": ("max_queued_requests", lambda n, t: _whole_number(n, t, 0)),
    "OPENREK_HEADER_TIMEOUT_S": ("header_timeout_s", _seconds),
    "OPENREK_BODY_TIMEOUT_S": ("body_timeout_s", _seconds),
    "OPENREK_MAX_CONNECTIONS": ("max_connections", _whole_number),
    "OPENREK_VIDEO_FPS": ("video_frames_per_second", _positive_number),
    "OPENREK_MAX_CONCURRENT_JOBS": ("max_concurrent_jobs", _whole_number),
    "OPENREK_JOB_WORKERS": ("job_workers", _whole_number),
    "OPENREK_JOB_LEASE_S": ("job_lease_seconds", _positive_number),
    "OPENREK_MAX_VIDEO_BYTES": ("max_video_bytes", _whole_number),
    "OPENREK_MAX_VIDEO_SECONDS": ("max_video_seconds", _positive_number),
    "OPENREK_MAX_UPLOAD_BYTES": ("max_upload_bytes", _whole_number),
    "OPENREK_STREAM_FPS": ("stream_frames_per_second", _positive_number),
    "OPENREK_MAX_RUNNING_STREAM_PROCESSORS": ("max_running_stream_processors", _whole_number),
    "OPENREK_LIVENESS_SESSION_S": ("liveness_session_seconds", _positive_number),
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=_default_data_dir)
    # Where collections, jobs and the rest are kept (storage/backends.py): unset is the
    # embedded SQLite file under the data directory; postgresql://... is shared by servers.
    database_url: str | None = None
    models_dir: Path = field(default_factory=_default_models_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # With no keys, any signature is accepted (like local emulators).
    access_keys: dict[str, str] = field(default_factory=dict)
    # S3Object images: an S3-compatible endpoint, or files under <data-dir>/s3/<bucket>/<key>.
    s3_endpoint_url: str | None = None
    # Video jobs' NotificationChannel: an SNS-compatible endpoint to publish completions to.
    sns_endpoint_url: str | None = None
    # Stream processors' Output.KinesisDataStream: a Kinesis-compatible endpoint.
    kinesis_endpoint_url: str | None = None
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    # Worker threads that run inference off the event loop.
    inference_workers: int = 4
    # Requests that may wait for a worker; one more is told to back off (ThrottlingException).
    max_queued_requests: int = 64
    # Limits on what one client may hold: seconds to send a request's headers, and
    # its body; connections open at once.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    max_connections: int = 256
    # Bytes of image memory the requests in flight may hold at once (imaging/decode.py
    # says what a request is charged): a 60 MP PNG is charged 357 MB, a 12 MP photo 132 MB.
    decode_budget_bytes: int = 768 * 1024 * 1024
    # Stored-video jobs: frames analysed per second of video (unset: each job type's own
    # rate, see jobs/rates.py), jobs IN_PROGRESS at once (AWS's default limit), and
    # jobs analysed at once.
    video_frames_per_second: float | None = None
    max_concurrent_jobs: int = 20
    job_workers: int = 1
    # With a shared database: how long a worker's claim on a job (or a stream processor)
    # holds without renewal, i.e. how soon another worker takes over from one that died.
    job_lease_seconds: float = 30.0
    # A stored video over either is refused (VideoTooLargeException): AWS's 10 GB and 6 h.
    max_video_bytes: int = 10 * 1024**3
    max_video_seconds: float = 6 * 3600.0
    # The console's uploads into the local bucket folders (console/uploads.py): a larger
    # body is refused while it streams in, before it fills the disk.
    max_upload_bytes: int = 2 * 1024**3
    # Stream processors: frames analysed per second of each live stream, and how many
    # run at once (AWS's default quota: 10 stream processors).
    stream_frames_per_second: float = 5.0
    max_running_stream_processors: int = 10
    # Face Liveness: seconds a session lives from its creation (AWS: 3 minutes); a
    # session not completed by then is EXPIRED, and so are its results after it.
    liveness_session_seconds: float = 180.0
    # Collection ARNs are written as AWS writes them, with this region and account.
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # The face model new collections are created with (see `openrek models list`).
    face_model_version: str = "1.0"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "openrek.sqlite3"

    @property
    def database(self) -> Database:
        try:
            return parse_database_url(self.database_url, self.database_path)
        except DatabaseUrlError as error:
            raise ConfigurationError(str(error)) from None

    @property
    def s3_dir(self) -> Path:
        return self.data_dir / "s3"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            field_name: read(name, env[name])
            for name, (field_name, read) in _ENVIRONMENT.items()
            if name in env
        }
        if "OPENREK_THREADS" in env or "OPENREK_DISABLE_CUDA" in env:
            threads = env.get("OPENREK_THREADS", "0")
            values["runtime"] = RuntimeSettings(
                intra_op_threads=_whole_number("OPENREK_THREADS", threads, minimum=0),
                use_cuda=env.get("OPENREK_DISABLE_CUDA", "") not in ("1", "true", "yes"),
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

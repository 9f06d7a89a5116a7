"""`openrek` command line: serve, models, and AWS-CLI-shaped verbs for local files."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openrek.cli_celebrities import add_celebrity_commands
from openrek.cli_custom_labels import add_custom_labels_commands
from openrek.cli_database import add_database_commands, add_database_option
from openrek.cli_streams import add_stream_commands
from openrek.cli_verbs import add_connection_options, add_verbs
from openrek.cli_video import add_video_commands
from openrek.cli_watch import add_watch_command
from openrek.cli_worker import add_worker_command
from openrek.config import DEFAULT_PORT, ConfigurationError, Settings
from openrek.models.store import ModelMissingError, ModelStore
from openrek.storage.base import StoreUnavailable, StoreUnusable


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def _serve(args: argparse.Namespace) -> int:
    from openrek.services import Services
    from openrek.serving import listen, serve
    from openrek.storage.backends import open_face_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings(args)
    if args.no_run_jobs and not settings.database.shared:
        raise ConfigurationError(
            "--no-run-jobs leaves jobs to `openrek worker`s: it needs --database postgresql://..."
        )
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"cannot use {settings.data_dir} as the data directory: {error.strerror}"
        ) from None
    # An unusable database or port stops start-up here, before seconds go into models
    # (a PostgreSQL database is migrated here too).
    open_face_store(settings.database).close()
    sock = listen(settings.host, settings.port)
    services = Services.start(settings)
    _ = services.store
    if not args.no_run_jobs:
        resumed = services.video_jobs.runner.resume()  # jobs a stopped or killed server left running
        if resumed:
            logging.getLogger("openrek").info("re-running %d unfinished video job(s)", resumed)
        # Processors a stopped server left running (embedded), or claiming them (shared).
        restarted = services.stream_processors.runner.resume()
        if restarted:
            logging.getLogger("openrek").info("restarting %d stream processor(s)", restarted)
        # Custom Labels work: claimed from the shared database, or what a stopped
        # embedded server left half done (its store is opened only if it has one).
        if settings.database.shared or (settings.data_dir / "custom_labels").exists():
            services.custom_labels.start_claiming()
    print(
        f"openrek serving Amazon Rekognition's API on http://{settings.host}:{settings.port} "
        f"(database {settings.database.describe()}, data in {settings.data_dir}, models in {settings.models_dir})",
        flush=True,
    )
    serve(services, sock)
    return 0


def _models(args: argparse.Namespace) -> int:
    store = ModelStore(_settings(args).models_dir)
    if args.models_command == "pull":
        names = store.default_names + [n for n in args.include if n not in store.default_names]
        for name in args.include:
            entry = store.entries.get(name)
            if entry is not None and not entry.commercial_use:
                print(
                    f"note: {name} ({entry.model}) is licensed {entry.licence}: not for commercial use",
                    file=sys.stderr,
                )
            elif entry is not None and entry.licence.startswith("AGPL"):
                print(
                    f"note: {name} ({entry.model}) is licensed {entry.licence}: a service "
                    "that uses it must offer its users the corresponding source",
                    file=sys.stderr,
                )
        store.pull(names)
        store.verify(names)
        print(f"{len(names)} models verified in {store.models_dir}")
    else:
        for entry in store.entries.values():
            present = store.path(entry.name).exists()
            state = "present" if present else ("opt-in" if entry.optional else "missing")
            print(f"{entry.name:28} {state:8} {entry.licence:16} {entry.model}  [{entry.carriers()}]")
    return 0


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    """boto3 against `--endpoint-url` when given, else openrek in this process."""
    if args.endpoint_url:
        import boto3

        yield boto3.client(
            "rekognition",
            endpoint_url=args.endpoint_url,
            region_name=args.region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            # A server without OPENREK_ACCESS_KEYS accepts any; boto3 just needs some.
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "openrek"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "openrek"),
        )
        return
    from openrek.client import Client

    with Client(settings=_settings(args)) as client:
        yield client


def _verb(args: argparse.Namespace) -> int:
    from openrek.cli_verbs import run_verb

    with _client(args) as client:
        return _print_call(lambda: run_verb(client, args))


def _annotate(args: argparse.Namespace) -> int:
    from openrek.annotate import annotate

    out = args.out or args.photo.with_name(f"{args.photo.stem}.annotated.jpg")
    with _client(args) as client:
        image, responses = annotate(
            client,
            args.photo.read_bytes(),
            args.features,
            args.min_confidence,
            warn=lambda message: print(f"openrek annotate: skipped {message}", file=sys.stderr),
        )
    image.save(out)
    counts = ", ".join(f"{feature}: {_count(response)}" for feature, response in responses.items())
    print(f"{out} ({counts})")
    return 0


def _count(response: dict[str, Any]) -> int:
    if "FaceDetails" in response:
        return len(response["FaceDetails"])
    if "Labels" in response:
        return len(response["Labels"])
    return sum(1 for found in response.get("TextDetections", []) if found["Type"] == "LINE")


def _print_call(call: Any) -> int:
    from botocore.exceptions import ClientError

    try:
        result = call()
    except ClientError as error:
        print(
            f"An error occurred ({error.response['Error']['Code']}): {error.response['Error']['Message']}",
            file=sys.stderr,
        )
        return 254  # the AWS CLI's exit code for a service error
    result.pop("ResponseMetadata", None)
    # Timestamps print as the AWS CLI prints them (ISO 8601).
    print(json.dumps(result, indent=4, default=lambda value: value.isoformat()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openrek", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the Rekognition-compatible HTTP server")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--data-dir", type=Path, default=None, help="where state is kept")
    add_database_option(serve)
    serve.add_argument(
        "--no-run-jobs",
        action="store_true",
        help="with a shared database: answer requests only, and leave jobs, stream processors and "
        "Custom Labels training to `openrek worker` processes",
    )
    serve.set_defaults(run=_serve)

    add_database_commands(commands)
    add_worker_command(commands)

    models = commands.add_parser("models", help="fetch or list the model files")
    models.add_argument("models_command", choices=["pull", "list"])
    models.add_argument(
        "--include",
        nargs="+",
        default=[],
        metavar="MODEL",
        help="also pull these opt-in models (see `openrek models list`)",
    )
    models.set_defaults(run=_models)

    add_verbs(commands, _verb)

    from openrek.annotate import FEATURES

    draw = commands.add_parser("annotate", help="draw faces, labels' instances and text on a photo")
    draw.add_argument("photo", type=Path, help="JPEG or PNG file")
    draw.add_argument("--out", type=Path, default=None, help="where to write (default PHOTO.annotated.jpg)")
    draw.add_argument("--features", nargs="+", choices=FEATURES, default=list(FEATURES))
    draw.add_argument("--min-confidence", type=float, default=55.0, help="for labels (default 55)")
    add_connection_options(draw)
    draw.set_defaults(run=_annotate)

    add_video_commands(commands)
    add_stream_commands(commands)
    add_watch_command(commands)
    add_celebrity_commands(commands)
    add_custom_labels_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ModelMissingError, ConfigurationError, StoreUnusable, StoreUnavailable) as error:
        # Start-up problems the user can fix: one line that says what to do, no traceback.
        print(f"openrek: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

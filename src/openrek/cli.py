"""`openrek` command line: serve, models, and AWS-CLI-shaped verbs for local files."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from openrek.cli_verbs import add_verbs
from openrek.config import DEFAULT_PORT, Settings
from openrek.inference.store import ModelMissingError, ModelStore


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from openrek.app import create_app
    from openrek.services import Services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = Services.start(settings)  # models load here, before the port opens
    _ = services.store  # the database opens too: an unusable data dir stops start-up here
    print(
        f"openrek serving Amazon Rekognition's API on http://{settings.host}:{settings.port} "
        f"(data in {settings.data_dir}, models in {settings.models_dir})",
        flush=True,
    )
    uvicorn.run(create_app(services), host=settings.host, port=settings.port, log_level="warning")
    return 0


def _models(args: argparse.Namespace) -> int:
    store = ModelStore(_settings(args).models_dir)
    if args.models_command == "pull":
        names = store.default_names + [n for n in args.include if n not in store.default_names]
        for name in args.include:
            entry = store.entries.get(name)
            if entry is not None and not entry.commercial_use:
                print(f"note: {name} ({entry.model}) is licensed {entry.licence}: "
                      "not for commercial use", file=sys.stderr)
        store.pull(names)
        store.verify(names)
        print(f"{len(names)} models verified in {store.models_dir}")
    else:
        for entry in store.entries.values():
            present = store.path(entry.name).exists()
            state = "present" if present else ("opt-in" if entry.optional else "missing")
            print(
                f"{entry.name:28} {state:8} {entry.licence:16} "
                f"{entry.model}  [{entry.carriers()}]"
            )
    return 0


def _verb(args: argparse.Namespace) -> int:
    from openrek.cli_verbs import run_verb
    from openrek.client import Client

    with Client(settings=_settings(args)) as client:
        return _print_call(lambda: run_verb(client, args))


def _print_call(call: Any) -> int:
    from botocore.exceptions import ClientError

    try:
        result = call()
    except ClientError as error:
        print(f"An error occurred ({error.response['Error']['Code']}): "
              f"{error.response['Error']['Message']}", file=sys.stderr)
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
    serve.set_defaults(run=_serve)

    models = commands.add_parser("models", help="fetch or list the model files")
    models.add_argument("models_command", choices=["pull", "list"])
    models.add_argument("--include", nargs="+", default=[], metavar="MODEL",
                        help="also pull these opt-in models (see `openrek models list`)")
    models.set_defaults(run=_models)

    add_verbs(commands, _verb)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ModelMissingError as error:
        print(f"openrek: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`openrek video-streams put NAME URL`: the live sources stream processors read.

A stream processor's input is a Kinesis Video stream ARN,
`arn:aws:kinesisvideo:<region>:<account>:stream/<NAME>/<id>`; openrek reads the source
registered here under NAME: an rtsp://, http(s):// URL or a local video file. The
registry is in the database (the data directory's, or the shared one named by --database
or OPENREK_DATABASE_URL, which every server and worker then resolves alike), so a running
server sees changes at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from openrek.cli_database import add_database_option


def add_stream_commands(commands: Any) -> None:
    streams = commands.add_parser("video-streams", help="register the live sources stream processors read")
    actions = streams.add_subparsers(dest="streams_command", required=True)
    put = actions.add_parser(
        "put", help="register (or replace) the source of stream NAME", description=__doc__
    )
    put.add_argument("name", help="the <NAME> of arn:aws:kinesisvideo:...:stream/<NAME>/...")
    put.add_argument("url", help="rtsp://, http(s):// URL or a local video file")
    listing = actions.add_parser("list", help="the registered sources")
    delete = actions.add_parser("delete", help="forget stream NAME")
    delete.add_argument("name")
    for parser in (put, listing, delete):
        parser.add_argument("--data-dir", type=Path, default=None, help="default: OPENREK_DATA_DIR")
        add_database_option(parser)
        parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from openrek.config import Settings
    from openrek.streams.sources import SourceFailed, check_url, is_network
    from openrek.streams.store import open_stream_store

    store = open_stream_store(Settings.from_env(data_dir=args.data_dir, database_url=args.database))
    try:
        if args.streams_command == "put":
            url = args.url if is_network(args.url) else str(Path(args.url).resolve())
            try:
                check_url(url)
            except SourceFailed as error:
                print(f"openrek video-streams: {error}")
                return 1
            store.put_source(args.name, url)
            print(f"{args.name} -> {url}")
        elif args.streams_command == "list":
            for name, url in store.sources():
                print(f"{name}\t{url}")
        elif not store.delete_source(args.name):
            print(f"openrek video-streams: no stream named {args.name}")
            return 1
    finally:
        store.close()
    return 0

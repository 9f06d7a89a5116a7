"""`openrek celebrities add|list|remove`: the operator's celebrity gallery.

    openrek celebrities add --name "Ada Lovelace" --url https://example.org/ada \\
        --gender Female ada1.jpg ada2.jpg
    openrek celebrities list
    openrek celebrities remove ID

Each photo's largest face is embedded by every installed face model and only the
vectors are kept (with the name, links and known gender), in the data directory's
celebrities.sqlite3: the photos are not stored. A running server sees a change on
its next request.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from openrek.celebrities.gallery import KNOWN_GENDERS, Celebrity, Gallery, GalleryError, open_gallery
from openrek.cli_database import add_database_option


def add_celebrity_commands(commands: Any) -> None:
    celebrities = commands.add_parser(
        "celebrities", help="the celebrity gallery RecognizeCelebrities matches against", description=__doc__
    )
    celebrities.formatter_class = argparse.RawDescriptionHelpFormatter
    actions = celebrities.add_subparsers(dest="celebrities_command", required=True)

    add = actions.add_parser("add", help="add a person from photos of their face")
    add.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="JPEG or PNG, one face each")
    add.add_argument("--name", required=True, help="the name RecognizeCelebrities answers")
    add.add_argument(
        "--url", action="append", default=[], dest="urls", help="a link to more about them (repeatable)"
    )
    add.add_argument("--gender", choices=KNOWN_GENDERS, default=None, help="KnownGender (optional)")
    _data_dir_option(add)
    add.set_defaults(run=_add)

    listing = actions.add_parser("list", help="every celebrity in the gallery, as JSON")
    _data_dir_option(listing)
    listing.set_defaults(run=_list)

    remove = actions.add_parser("remove", help="remove a celebrity and their face vectors")
    remove.add_argument("celebrity_id", metavar="ID")
    _data_dir_option(remove)
    remove.set_defaults(run=_remove)


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="the server's data directory (default OPENREK_DATA_DIR)"
    )
    add_database_option(parser)


def _gallery(args: argparse.Namespace) -> Gallery:
    from openrek.config import Settings

    return open_gallery(Settings.from_env(data_dir=args.data_dir, database_url=args.database))


def _json(celebrity: Celebrity) -> dict[str, Any]:
    return {"Id": celebrity.celebrity_id, **celebrity.info(), "FaceVectors": dict(celebrity.faces)}


def _add(args: argparse.Namespace) -> int:
    from openrek.celebrities.enrol import enrol_photo
    from openrek.config import Settings
    from openrek.models.store import ModelStore
    from openrek.protocol.errors import RekognitionError
    from openrek.services import build_embedders, build_face_analyzer

    settings = Settings.from_env(data_dir=args.data_dir, database_url=args.database)
    models = ModelStore(settings.models_dir)
    embedders = build_embedders(models, settings)
    analyzer = build_face_analyzer(models, settings, embedders)
    enrolments = []
    try:
        for photo in args.photos:
            enrolled = enrol_photo(analyzer, embedders, photo.read_bytes(), str(photo))
            if enrolled.faces_found > 1:
                print(f"note: {photo} has {enrolled.faces_found} faces; the largest is used", file=sys.stderr)
            enrolments.append(enrolled.enrolment)
    except (GalleryError, RekognitionError, OSError) as error:
        print(f"openrek celebrities add: {_message(error)}; nothing was added", file=sys.stderr)
        return 1
    gallery = open_gallery(settings)
    try:
        celebrity = gallery.add(args.name, args.urls, args.gender, enrolments)
    except GalleryError as error:
        print(f"openrek celebrities add: {error}", file=sys.stderr)
        return 1
    finally:
        gallery.close()
    print(json.dumps(_json(celebrity), indent=4))
    return 0


def _message(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def _list(args: argparse.Namespace) -> int:
    gallery = _gallery(args)
    try:
        print(json.dumps({"Celebrities": [_json(c) for c in gallery.everyone()]}, indent=4))
    finally:
        gallery.close()
    return 0


def _remove(args: argparse.Namespace) -> int:
    gallery = _gallery(args)
    try:
        removed = gallery.remove(args.celebrity_id)
    finally:
        gallery.close()
    if not removed:
        print(f"openrek celebrities remove: no celebrity has the id {args.celebrity_id}", file=sys.stderr)
        return 1
    print(f"removed {args.celebrity_id}")
    return 0

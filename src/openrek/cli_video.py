"""`openrek video analyze clip.mp4 --features faces,labels,text`: a video analysed in this
process, with a progress bar, the results written as JSON, and optionally an
annotated copy of the video."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from openrek.jobs.local import FEATURE_OPERATIONS, available_features

DEFAULT_FEATURES = "faces,labels,text"


def add_video_commands(commands: Any) -> None:
    video = commands.add_parser("video", help="analyse a local video file in this process")
    actions = video.add_subparsers(dest="video_command", required=True)
    analyze = actions.add_parser(
        "analyze",
        help="run Rekognition Video's analyses on a local file and write their results as JSON",
        description=__doc__,
    )
    analyze.add_argument("video", type=Path, help="H.264 video in an MP4 or MOV file")
    analyze.add_argument(
        "--features",
        default=DEFAULT_FEATURES,
        help=f"comma-separated, of: {', '.join(FEATURE_OPERATIONS)} (default {DEFAULT_FEATURES}; "
        "search needs --collection-id)",
    )
    analyze.add_argument("--collection-id", default=None, help="the collection `search` looks in")
    analyze.add_argument("--face-match-threshold", type=float, default=None, help="for search (default 80)")
    analyze.add_argument("--min-confidence", type=float, default=None, help="for labels and moderation")
    analyze.add_argument(
        "--output", type=Path, default=None, help="where the JSON goes (default VIDEO.analysis.json)"
    )
    analyze.add_argument(
        "--annotate", type=Path, default=None, metavar="OUT.mp4", help="also write the video with boxes drawn"
    )
    analyze.add_argument(
        "--data-dir", type=Path, default=None, help="collections for search (default OPENREK_DATA_DIR)"
    )
    analyze.set_defaults(run=_analyze)


def _features(text: str, collection_id: str | None) -> list[str]:
    features = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in features if name not in FEATURE_OPERATIONS]
    if unknown or not features:
        raise SystemExit(
            f"openrek video analyze: unknown feature(s) {unknown}; choose from {list(FEATURE_OPERATIONS)}"
        )
    missing = [name for name in features if name not in available_features()]
    if missing:
        raise SystemExit(f"openrek video analyze: {', '.join(missing)} not available in this version")
    if "search" in features and not collection_id:
        raise SystemExit("openrek video analyze: search needs --collection-id")
    return list(dict.fromkeys(features))


_last_drawn: dict[str, int] = {}


def _bar(label: str, fraction: float) -> None:
    percent = int(fraction * 100)
    if _last_drawn.get(label) == percent:
        return  # a redraw per frame would flood a log
    _last_drawn[label] = percent
    width = 30
    filled = round(width * fraction)
    sys.stderr.write(f"\r{label:12} [{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}%")
    sys.stderr.flush()


def _analyze(args: argparse.Namespace) -> int:
    from openrek.config import Settings
    from openrek.jobs.local import analyze, start_services
    from openrek.jobs.rates import frames_per_second
    from openrek.jobs.runner import JobFailed
    from openrek.storage.base import CollectionMissing
    from openrek.video.annotate import ITEMS, Timeline, annotate_video
    from openrek.video.decode import VideoUnreadable, probe

    features = _features(args.features, args.collection_id)
    settings = Settings.from_env(data_dir=args.data_dir)
    try:
        metadata = probe(args.video)
    except (VideoUnreadable, OSError) as error:
        print(f"openrek video analyze: {args.video}: {error}", file=sys.stderr)
        return 1
    services = start_services(settings, args.video, progress=_bar)
    if args.collection_id:
        try:
            services.store.get_collection(args.collection_id)
        except CollectionMissing:
            services.close()
            print(
                f"openrek video analyze: no collection {args.collection_id} in {settings.data_dir}",
                file=sys.stderr,
            )
            return 1
    options: dict[str, Any] = {
        name: value
        for name, value in (
            ("CollectionId", args.collection_id),
            ("FaceMatchThreshold", args.face_match_threshold),
            ("MinConfidence", args.min_confidence),
        )
        if value is not None
    }
    report: dict[str, Any] = {"Video": str(args.video), "VideoMetadata": metadata.as_aws()}
    timelines = []
    size = (metadata.frame_width, metadata.frame_height)
    try:
        for result in analyze(services, args.video, features, options):
            _bar(result.feature, 1.0)
            sys.stderr.write(f"  {result.seconds:.1f} s\n")
            report[result.feature] = {k: v for k, v in result.results.items() if k != "VideoMetadata"}
            if args.annotate and result.api in ITEMS:
                items = result.results[ITEMS[result.api]]
                if result.feature == "labels" and {"faces", "search"} & set(features):
                    # Labels' "Face" instances are the faces already drawn.
                    items = [item for item in items if item["Label"]["Name"] != "Face"]
                hold = 1000 / frames_per_second(services, result.api)
                timelines.append(Timeline(result.api, items, hold, size))
    except (VideoUnreadable, JobFailed) as error:
        sys.stderr.write("\n")
        print(f"openrek video analyze: {args.video}: {error}", file=sys.stderr)
        return 1
    finally:
        services.close()
    out = args.output or args.video.with_name(f"{args.video.stem}.analysis.json")
    out.write_text(json.dumps(report, indent=2))
    print(out)
    if args.annotate:
        frames = annotate_video(args.video, args.annotate, metadata, timelines, lambda f: _bar("annotate", f))
        sys.stderr.write("\n")
        print(f"{args.annotate} ({frames} frames)")
    return 0

"""`openrek watch URL --collection-id C`: faces of a live source searched as it plays,
each match printed as it happens, optionally with an annotated preview.

The same analysis as a FaceSearch stream processor (streams/face_search.py), run in
this process with no server, store or Kinesis: for trying a camera and a collection
before setting up a processor. A preview ending in .jpg is rewritten with each
analysed frame (open it in an image viewer that reloads); one ending in .mp4 collects
the analysed frames as a video.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any


def add_watch_command(commands: Any) -> None:
    watch = commands.add_parser(
        "watch", help="search the faces of a live source, printing matches as they happen"
    )
    watch.add_argument("url", help="rtsp://, http(s):// URL or a video file (played at its own rate)")
    watch.add_argument("--collection-id", required=True)
    watch.add_argument("--face-match-threshold", type=float, default=80.0)
    watch.add_argument(
        "--fps", type=float, default=None, help="frames analysed per second (default OPENREK_STREAM_FPS, 5)"
    )
    watch.add_argument(
        "--seconds", type=float, default=None, help="stop after this long (default: until Ctrl-C or the end)"
    )
    watch.add_argument(
        "--preview", type=Path, default=None, help="FILE.jpg (latest frame) or FILE.mp4, boxes drawn"
    )
    watch.add_argument("--all-faces", action="store_true", help="also print faces that match no one")
    watch.add_argument(
        "--data-dir", type=Path, default=None, help="where the collection is (default OPENREK_DATA_DIR)"
    )
    watch.set_defaults(run=_watch)


class _Preview:
    def __init__(self, path: Path, frames_per_second: float) -> None:
        self._path = path
        self._fps = frames_per_second
        self._video: Any = None
        self._stream: Any = None
        self._count = 0

    def show(self, rgb: Any, marks: list[Any]) -> None:
        import numpy as np
        from PIL import Image

        from openrek.annotate import draw

        picture = draw(Image.fromarray(rgb), marks) if marks else Image.fromarray(rgb)
        if self._path.suffix.lower() in (".jpg", ".jpeg"):
            partial = self._path.with_name(self._path.name + ".partial")
            picture.save(partial, "JPEG", quality=85)
            partial.replace(self._path)  # a viewer never reads half a picture
            return
        from fractions import Fraction

        import av

        pixels = np.asarray(picture)
        height, width = pixels.shape[0] // 2 * 2, pixels.shape[1] // 2 * 2
        if self._video is None:
            self._video = av.open(str(self._path), "w")
            self._stream = self._video.add_stream("libx264", rate=Fraction(self._fps).limit_denominator(1000))
            self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels[:height, :width]), format="rgb24")
        frame.pts = self._count
        self._count += 1
        for packet in self._stream.encode(frame):
            self._video.mux(packet)

    def close(self) -> None:
        if self._video is not None:
            for packet in self._stream.encode():
                self._video.mux(packet)
            self._video.close()


def _watch(args: argparse.Namespace) -> int:
    from openrek.annotate import Mark, box_points
    from openrek.config import Settings
    from openrek.services import Services
    from openrek.storage.base import CollectionMissing
    from openrek.streams.face_search import FaceSearchSession
    from openrek.streams.pacing import frames_to_analyse
    from openrek.streams.sources import LiveSource, SourceFailed, check_url, is_network

    settings = Settings.from_env(data_dir=args.data_dir)
    url = args.url if is_network(args.url) else str(Path(args.url).resolve())
    try:
        check_url(url)
    except SourceFailed as error:
        print(f"openrek watch: {error}", file=sys.stderr)
        return 1
    services = Services.start(settings)
    try:
        services.store.get_collection(args.collection_id)
    except CollectionMissing:
        print(f"openrek watch: no collection {args.collection_id} in {settings.data_dir}", file=sys.stderr)
        services.close()
        return 1
    fps = args.fps or settings.stream_frames_per_second
    analysis = FaceSearchSession.of(
        services, {"CollectionId": args.collection_id, "FaceMatchThreshold": args.face_match_threshold}
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    preview = _Preview(args.preview, fps) if args.preview else None
    source = LiveSource(url).start()
    analysed = matched = 0
    try:
        for live in frames_to_analyse(source, fps, stop, args.seconds):
            rgb = live.frame.to_ndarray(format="rgb24")
            height, width = rgb.shape[:2]
            responses = analysis.responses(rgb, round(live.offset_seconds * 1000))
            analysed += 1
            marks = []
            clock = time.strftime("%H:%M:%S", time.localtime(live.received_at))
            for response in responses:
                box = response["DetectedFace"]["BoundingBox"]
                points = box_points(box, width, height)
                best = response["MatchedFaces"][0] if response["MatchedFaces"] else None
                if best is not None:
                    matched += 1
                    face = best["Face"]
                    name = face.get("ExternalImageId") or face.get("UserId") or face["FaceId"]
                    caption = f"{name} {best['Similarity']:.1f}%"
                    print(f"{clock}  {live.offset_seconds:.2f}s  {caption}", flush=True)
                    marks.append(Mark("faces", points, caption))
                else:
                    if args.all_faces:
                        print(f"{clock}  {live.offset_seconds:.2f}s  face (no match)", flush=True)
                    marks.append(Mark("labels", points, "no match"))
            if preview is not None:
                preview.show(rgb, marks)
    except SourceFailed as error:
        print(f"openrek watch: {error}", file=sys.stderr)
        return 1
    finally:
        source.close()
        if preview is not None:
            preview.close()
        services.close()
    print(f"{analysed} frames analysed, {matched} faces matched", file=sys.stderr)
    return 0

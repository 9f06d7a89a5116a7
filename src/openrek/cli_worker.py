"""`openrek worker`: a process that runs jobs, stream processors and Custom Labels work
(datasets, trainings, version starts and copies) from a shared database, with no HTTP server.

Start any number, on any hosts, beside `openrek serve` processes on the same
`--database postgresql://...`. Each claims jobs while it has free job workers
(OPENREK_JOB_WORKERS) and stream processors while it runs fewer than
OPENREK_MAX_RUNNING_STREAM_PROCESSORS; media must be where every host can read it
(OPENREK_S3_ENDPOINT_URL), and the registered video streams where every worker can open them.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from openrek.cli_database import add_database_option
from openrek.config import ConfigurationError, Settings


def add_worker_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser(
        "worker",
        help="run stored-video and bulk-analysis jobs, stream processors and Custom Labels training "
        "from a shared database",
    )
    worker.add_argument("--data-dir", type=Path, default=None, help="local scratch and model settings")
    add_database_option(worker)
    worker.set_defaults(run=_worker)


def _worker(args: argparse.Namespace) -> int:
    from openrek.services import Services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env(data_dir=args.data_dir, database_url=args.database)
    if not settings.database.shared:
        raise ConfigurationError(
            "`openrek worker` takes jobs from a shared database: give --database postgresql://... "
            "(with the embedded SQLite default, `openrek serve` runs its own jobs)"
        )
    services = Services.start(settings)
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner = services.video_jobs.runner
    runner.start_claiming()
    streams = services.stream_processors.runner
    streams.start_claiming()
    services.custom_labels.start_claiming()  # datasets, trainings, version starts and copies
    print(
        f"openrek worker {runner.worker_name} taking jobs from {settings.database.describe()} "
        f"({settings.job_workers} at a time), and stream processors as {streams.holder} "
        f"({streams.capacity} at a time)",
        flush=True,
    )
    stop.wait()
    # Jobs cut short here are claimed again by another worker once their lease ends;
    # stream processors are released for another process to claim at once.
    services.close(wait_for_jobs=False)
    return 0

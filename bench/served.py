"""`openrek serve` as a subprocess for benchmarks: start on a free port, wait, measure, stop.

Kept apart from any one benchmark so that every bench that drives a real server starts
and reads it the same way.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def openrek_command() -> list[str]:
    # The console script installed beside this interpreter, as a user would run it.
    script = Path(sys.executable).parent / "openrek"
    if script.exists():
        return [str(script)]
    found = shutil.which("openrek")
    return [found] if found else [sys.executable, "-m", "openrek"]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def running_server(
    data_dir: Path,
    start_timeout: float,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`openrek serve` on a free loopback port, with its log beside `data_dir`.

    `command` replaces the installed `openrek` (e.g. another checkout's code run with
    `python -m openrek` and its own PYTHONPATH in `env`)."""
    port = free_port()
    log = data_dir.parent / "server.log"
    cmd = [*(command or openrek_command()), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    with open(log, "wb") as sink:
        process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_answering(server, port, start_timeout)
        yield server
    finally:
        stop(process)


def wait_until_answering(server: Server, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"openrek serve exited with {server.process.returncode}:\n{server.log_tail()}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            # Any HTTP answer at all (even an error shape for a bare GET) means it is up.
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.25)
        finally:
            conn.close()
    raise RuntimeError(f"openrek serve did not answer within {timeout:.0f} s:\n{server.log_tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def proc_status_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def tree_status_kib(pid: int, field_name: str) -> int:
    """A /proc status field (VmRSS, VmHWM) summed over the process and its descendants."""
    return sum(proc_status_kib(p, field_name) for p in [pid, *descendants(pid)])


def descendants(pid: int) -> list[int]:
    # A server that forks workers keeps its memory there too; count the whole tree.
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found.append(int(child))
                found.extend(descendants(int(child)))
    return found

"""`storyline serve` as a child process on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

SERVER_START_SECONDS = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def measured_server(
    database_url: str, *, workers: int | None, log_path: Path, notes: list[str]
) -> Iterator[str]:
    """`running_server` for a measurement: timings on a machine busy with
    other work say little, so a load average above the core count before or
    after is said in `notes`. The server's log is kept only if it failed."""
    load_before = os.getloadavg()[0]
    with running_server(database_url, workers=workers, log_path=log_path) as base:
        yield base
    load_after = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    if max(load_before, load_after) > cores:
        notes.append(
            f"The machine was busy: load average {load_before:.1f} before and "
            f"{load_after:.1f} after the run, on {cores} cores."
        )
    log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def running_server(
    database_url: str,
    *,
    workers: int | None,
    log_path: Path,
    ready_seconds: float = SERVER_START_SECONDS,
    environment: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """`storyline serve` on a free loopback port; yields its base URL and
    stops it by PID (its worker processes with it) on the way out. With
    `workers` None the server runs with its own default worker count."""
    process, base = start_server(
        database_url,
        workers=workers,
        log_path=log_path,
        ready_seconds=ready_seconds,
        environment=environment,
    )
    try:
        yield base
    finally:
        stop_process(process)


def start_server(
    database_url: str,
    *,
    workers: int | None,
    log_path: Path,
    ready_seconds: float = SERVER_START_SECONDS,
    environment: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `storyline serve` on a free loopback port and wait until it
    answers; the caller stops it (`stop_process`, or SIGKILL to its process
    group, whose id is its PID). `environment` adds to the settings."""
    port = free_port()
    env = {**os.environ, **(environment or {}), "STORYLINE_DATABASE_URL": database_url}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "storyline", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--no-upgrade"]
        if workers is not None:
            command += ["--workers", str(workers)]
        process = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so that uvicorn's workers can be ended
            # along with it even if it dies without stopping them.
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, ready_seconds, log_path)
    except BaseException:
        stop_process(process)
        raise
    return process, base


def _wait_ready(process: subprocess.Popen[bytes], base: str, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {seconds:.0f} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop_process(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    # Workers left behind by a supervisor that died: they share its group,
    # whose id is the PID we started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)

"""`make run`: the development server and the worker together, from one command.

Starts `flask --app app run` (the web server) and `flask --app app worker` (imports,
the outbox, reminders and every periodic job: core/jobs.py) as children of this
process, with this interpreter, and stops both when either ends or on Ctrl-C /
SIGTERM: each gets SIGTERM (the worker finishes the step under way), and is killed
after a grace period if it still runs. Extra arguments go to `flask run`
(default: --host 127.0.0.1 --port 5000). Exits with the status of the child that
ended first (0 after Ctrl-C)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

GRACE = 20  # seconds a child has to stop after SIGTERM (a worker's step may run on)


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(argv: list[str]) -> int:
    server_args = argv or ["--host", "127.0.0.1", "--port", "5000"]
    children = [
        subprocess.Popen(_flask("run", *server_args)),
        subprocess.Popen(_flask("worker")),
    ]
    stopping = False

    def _terminate(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    status = 0
    try:
        while True:
            ended = [c for c in children if c.poll() is not None]
            if ended:
                status = ended[0].returncode
                name = "web server" if ended[0] is children[0] else "worker"
                print(f"run_dev: the {name} stopped (status {status}); stopping the other")
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        stopping = True
    _stop(children)
    return 0 if stopping else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

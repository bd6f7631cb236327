"""A throwaway PostgreSQL cluster for tests: Debian's ``postgresql`` binaries, initdb and pg_ctl on a temp dir.

PostgreSQL refuses to run as root, so as root the cluster is run by the ``postgres`` system user
(which Debian's package creates) via ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def postgres_bin() -> Path | None:
    """The directory with initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    port: int
    directory: Path
    run_as: list[str]
    pg_ctl: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.pg_ctl), "-D", str(self.directory / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb + pg_ctl start on a free port, trust authentication on localhost only; raises if it cannot."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="digits-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")  # KeyError: no postgres user to run it
        os.chown(directory, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = directory / "data"
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=50"
    subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w",
                    "-t", "60", "start"], check=True, capture_output=True, timeout=90)
    cluster = Cluster(port, directory, run_as, bin_dir / "pg_ctl")
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return cluster
        except OSError:
            if time.monotonic() > deadline:
                cluster.stop()
                raise
            time.sleep(0.2)

"""The deployment of deploy/README.md on one machine, from Debian packages: PostgreSQL (``postgresql``), povmap
servers and HAProxy (``haproxy``), each a child process in one folder. The tests start it this way; so can anyone who
wants to try several servers without containers.

Runs as an ordinary user; as root, PostgreSQL (which refuses to run as root) runs as the ``postgres`` user.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script (deploy/cluster.py): deploy.idp is imported from the repository
    sys.path.insert(0, str(REPO))


def _pg_bin() -> Path:
    """Debian's PostgreSQL programs (the newest installed version), or ``POVMAP_PG_BIN``."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return Path(os.environ.get("POVMAP_PG_BIN") or (found[-1].parent if found else "/usr/lib/postgresql/15/bin"))


DEBIAN_PACKAGES = ("postgresql", "haproxy")
START_DEADLINE_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_packages() -> None:
    """Install what the cluster runs on (Debian), if it is missing."""
    if (_pg_bin() / "postgres").exists() and shutil.which("haproxy"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", *DEBIAN_PACKAGES], check=True)


class Postgres:
    """A PostgreSQL server of its own: a new cluster in ``root``, on a loopback port, with a ``povmap`` role and
    database (password authentication over TCP, as a real deployment has)."""

    def __init__(self, root: str | os.PathLike | None = None, port: int | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix="povmap-pg-"))
        self.port = port or free_port()
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.password = secrets.token_urlsafe(16)
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://povmap:{self.password}@127.0.0.1:{self.port}/povmap"

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done

    def init(self) -> Postgres:
        install_packages()
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(str(_pg_bin() / "initdb"), "-D", str(self.data), "-U", "povmap", "--pwfile", str(pwfile),
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        pwfile.unlink()
        return self

    def start(self) -> Postgres:
        """Start and wait until it accepts connections (``pg_ctl -w`` waits on the server's own readiness)."""
        self._run(str(_pg_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")
        if not getattr(self, "_created", False):
            self.psql("CREATE DATABASE povmap OWNER povmap", db="postgres")
            self._created = True
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(_pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def psql(self, sql: str, db: str = "povmap") -> str:
        return self._run("psql", "-h", str(self.root), "-p", str(self.port), "-U", "povmap", "-d", db,
                         "-v", "ON_ERROR_STOP=1", "-At", "-c", sql).stdout

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Process:
    """A child in its own process group, its output in ``log``, stopped with its children."""

    def __init__(self, cmd: list[str], log: Path, **popen):
        self.log = log
        self._out = open(log, "w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, **popen)

    def wait_until(self, ready, what: str) -> None:
        """Poll ``ready()`` (the process's own answer: a health URL, a socket) until true, or fail with its log."""
        deadline = time.monotonic() + START_DEADLINE_S
        while not ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{what} did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)  # the poll interval of a bounded wait

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


class AppServer(Process):
    """One povmap server (``serve.py run app.py``, as ``make run`` starts it) on a loopback port."""

    def __init__(self, name: str, env: dict[str, str], root: Path, cwd: Path):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, str(REPO / "serve.py"), "run", str(REPO / "app.py"),
                          "--server.port", str(self.port), "--server.address", "127.0.0.1",
                          "--server.headless", "true", "--browser.gatherUsageStats", "false",
                          "--server.fileWatcherType", "none"],
                         root / f"{name}.log", cwd=cwd, env={**env, "PYTHONUNBUFFERED": "1"})

    def wait_ready(self) -> None:
        self.wait_until(lambda: healthy(self.url), f"povmap server {self.name}")


HAPROXY_CFG = """\
# povmap behind HAProxy: sticky sessions (a Streamlit session lives in one server's memory), health checks, and
# another server for a user whose server died. Written by deploy/cluster.py.
global
    maxconn 4096
    stats socket {socket} mode 600 level admin

defaults
    mode http
    option redispatch          # the user's server is down: send them to another one
    retries 2
    timeout connect 5s
    timeout client 1h          # a session is one long websocket
    timeout server 1h
    timeout tunnel 1h

frontend povmap
    bind {bind}
    default_backend povmap_servers

backend povmap_servers
    balance roundrobin
    cookie POVMAP_SERVER insert indirect nocache httponly
    option httpchk GET /_stcore/health
    http-check expect string ok
    default-server inter 1s fastinter 500ms fall 2 rise 2
{servers}
"""


def haproxy_config(bind: str, servers: dict[str, str], socket_path: str) -> str:
    """The balancer's configuration: ``servers`` maps a name (its cookie value) to ``host:port``."""
    lines = "\n".join(f"    server {name} {addr} check cookie {name}" for name, addr in servers.items())
    return HAPROXY_CFG.format(bind=bind, servers=lines, socket=socket_path)


class Balancer(Process):
    """HAProxy in the foreground, in front of ``servers``."""

    def __init__(self, root: Path, servers: dict[str, str], port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket = root / "haproxy.sock"
        cfg = root / "haproxy.cfg"
        cfg.write_text(haproxy_config(f"127.0.0.1:{self.port}", servers, str(self.socket)), encoding="utf-8")
        subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], check=True)
        super().__init__(["haproxy", "-db", "-f", str(cfg)], root / "haproxy.log")

    def wait_ready(self) -> None:
        self.wait_until(lambda: healthy(self.url), "HAProxy")

    def states(self) -> dict[str, str]:
        """Each server's state as the balancer sees it ("UP", "DOWN", ...), from its stats socket."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.socket))
            s.sendall(b"show stat\n")
            out = b"".join(iter(lambda: s.recv(65536), b"")).decode()
        rows = [r.split(",") for r in out.splitlines() if r and not r.startswith("#")]
        return {r[1]: r[17] for r in rows if r[0] == "povmap_servers" and r[1] not in ("FRONTEND", "BACKEND")}


class Cluster:
    """PostgreSQL, ``n`` povmap servers sharing it and one folder of imported datasets, and HAProxy in front."""

    def __init__(self, n: int = 3, root: str | os.PathLike | None = None, *, env: dict[str, str] | None = None,
                 cwd: str | os.PathLike | None = None, port: int | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix="povmap-cluster-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.n, self.port, self.cwd = n, port, Path(cwd or REPO)
        self.base_env = dict(os.environ if env is None else env)
        # As root, PostgreSQL runs as its own user, who may not reach into ``root``: it then gets a folder of its own.
        self.postgres = Postgres(None if os.geteuid() == 0 else self.root / "postgres")
        self.servers: list[AppServer] = []
        self.balancer: Balancer | None = None

    @property
    def url(self) -> str:
        return self.balancer.url

    def start(self) -> Cluster:
        self.postgres.init().start()
        env = {**self.base_env, "POVMAP_DATABASE_URL": self.postgres.url,
               "POVMAP_USER_DATA": self.base_env.get("POVMAP_USER_DATA") or str(self.root / "user_datasets"),
               # one cookie secret for all: a session's cookies (its XSRF token) hold on whichever server serves it
               "STREAMLIT_SERVER_COOKIE_SECRET": self.base_env.get("STREAMLIT_SERVER_COOKIE_SECRET")
               or secrets.token_hex(32)}
        self.servers = [AppServer(f"s{i}", env, self.root, self.cwd) for i in range(1, self.n + 1)]
        for server in self.servers:
            server.wait_ready()
        self.balancer = Balancer(self.root, {s.name: f"127.0.0.1:{s.port}" for s in self.servers}, self.port)
        self.balancer.wait_ready()
        return self

    def stop(self) -> None:
        for p in [self.balancer, *self.servers]:
            if p is not None:
                p.stop()
        self.postgres.remove() if os.geteuid() == 0 else self.postgres.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description="Run N povmap servers on one PostgreSQL behind HAProxy, on this machine.")
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--port", type=int, default=8080, help="the balancer's port (default 8080)")
    ap.add_argument("--root", help="the folder for the database, logs and imported datasets (default: a new one)")
    ap.add_argument("--demo-sign-in", action="store_true",
                    help="also start the demo OpenID Connect provider (deploy/demo_idp) with an admin, an analyst "
                         "and a data steward, and sign in through it")
    args = ap.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="povmap-cluster-"))
    with contextlib.ExitStack() as stack:
        cwd, users = None, []
        if args.demo_sign_in:
            from deploy.idp import OidcProvider, demo_users, write_auth_secrets

            users, site = demo_users(), f"http://localhost:{args.port}"
            idp = stack.enter_context(OidcProvider(root / "idp", users, [f"{site}/oauth2callback"]))
            cwd = root / "app"  # the servers' working folder: its .streamlit/secrets.toml points at the provider
            write_auth_secrets(cwd, idp, site)
        cluster = stack.enter_context(Cluster(args.servers, root, cwd=cwd, port=args.port))
        where = f"http://localhost:{args.port}" if users else cluster.url
        print(f"povmap: {where} -> {', '.join(s.url for s in cluster.servers)}; PostgreSQL on port "
              f"{cluster.postgres.port}; files in {cluster.root}. Ctrl-C stops everything.", flush=True)
        for u in users:
            print(f"  sign in as {u.username} / {u.password} ({', '.join(u.groups)})", flush=True)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    main()

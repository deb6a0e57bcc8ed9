"""The whole Laris system as `make run` starts it: the Procfile's processes (plus any extra
ones a test needs), on a free port, against an isolated virtual host and test databases.

Started once per test session; tests may stop, restart or crash single processes.
"""
import functools
import os
import pathlib
import shlex
import signal
import socket
import subprocess
import time

import requests

from backbone import config
from services.gateway.rpc import RpcPool
from tests.support.fake_whatsapp import FakeWhatsApp
from tests.support.mail import MailCatcher

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEST_ADMIN = ("admin@test.laris.local", "test-admin-password")


def procfile(path=ROOT / "Procfile"):
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    def __init__(self, name, command, env, log_dir):
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen = None

    def start(self, extra_env=None):
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            shlex.split(self.command), cwd=ROOT, env=self.env | (extra_env or {}),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def wait_exit(self, timeout):
        return self.popen.wait(timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if not self.running():
            return
        os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def kill(self):
        self.stop(signal.SIGKILL)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class System:
    def __init__(self, infra, log_dir, extra_processes=None):
        self.infra = infra
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # notify's WhatsApp channel talks to this in-process fake of the Cloud API.
        self.whatsapp = FakeWhatsApp().start()
        # notify's e-mail channel sends to this real SMTP server in the test process.
        self.mail = MailCatcher().start()
        self.admin = TEST_ADMIN
        self.env = os.environ | infra.env() | {
            "PYTHONPATH": str(ROOT),
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
            "PYTHONWARNINGS": ",".join(f"ignore::Warning:nameko.{module}" for module in (
                "rpc", "containers")),
            "LARIS_HTTP_PORT": str(self.port),
            "LARIS_ADMIN_EMAIL": TEST_ADMIN[0],
            "LARIS_ADMIN_PASSWORD": TEST_ADMIN[1],
            "LARIS_SECRET_KEY": "test-secret-key-with-enough-length-for-hs256",
            "LARIS_ENV": "development",
            "LARIS_GATEWAY_WORKERS": "2",
            "LARIS_GATEWAY_THREADS": "8",
            "LARIS_OUTBOX_POLL_SECONDS": "0.5",
            "LARIS_RPC_TIMEOUT": "4",
            "LARIS_CONSUMER_RETRY_SECONDS": "0.05",
            # Allocation runs answer within the gateway's RPC timeout; holds expire promptly.
            "LARIS_ALLOCATION_TIME_LIMIT_SECONDS": "2",
            "LARIS_HOLD_SWEEP_SECONDS": "1",
            "LARIS_REMINDER_SWEEP_SECONDS": "1",
            # A failed delivery is tried again within a second, so retries are seen in tests.
            "LARIS_DELIVERY_BASE_SECONDS": "0.2",
            # ... three tries in all, a webhook or e-mail given up after a second; a dead
            # worker's claim is taken again after its lease, longer than any channel's timeout.
            "LARIS_DELIVERY_CAP_SECONDS": "1",
            "LARIS_DELIVERY_ATTEMPTS": "3",
            "LARIS_DELIVERY_TIMEOUT_SECONDS": "1",
            "LARIS_DELIVERY_LEASE_SECONDS": "15",
            "LARIS_DELIVERY_POLL_SECONDS": "0.2",
            "LARIS_LOG_LEVEL": "INFO",
            # Tests read the processes' logs as JSON, whatever the developer's shell says.
            "LARIS_LOG_FORMAT": "json",
            # As behind one reverse proxy: a test picks its client address in X-Forwarded-For.
            "LARIS_TRUSTED_PROXIES": "1",
        } | self.whatsapp.env() | self.mail.env()
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        commands = procfile() | (extra_processes or {})
        unlisted = [service for service in config.SERVICES if service not in commands]
        if unlisted:
            raise RuntimeError(f"no Procfile line for {', '.join(unlisted)}: every service of "
                               "backbone.config.SERVICES runs from the Procfile")
        self.processes = {name: Process(name, command, self.env, log_dir)
                          for name, command in commands.items()}

    # --- life cycle -------------------------------------------------------------------------

    def start(self, timeout=90):
        for service in config.SERVICES:
            self.infra.migrate(service)
        for process in self.processes.values():
            process.start()
        self.wait_ready(timeout)

    def stop(self):
        for process in self.processes.values():
            process.stop()
        self.whatsapp.stop()
        self.mail.stop()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self._fail_if_exited()
            try:
                last = requests.get(f"{self.base_url}/readyz", timeout=5)
                if last.status_code == 200:
                    return
            # A loaded machine may answer late: a timed-out probe is tried again too.
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = exc
            time.sleep(0.3)
        raise RuntimeError(f"the system was not ready within {timeout}s: {last}\n"
                           + self.tail_logs())

    def restart(self, name, extra_env=None, wait=True):
        process = self.processes[name]
        process.stop()
        process.start(extra_env)
        if wait:
            self.wait_ready()

    def _fail_if_exited(self):
        for process in self.processes.values():
            if process.popen is not None and not process.running():
                raise RuntimeError(f"{process.name} exited with {process.popen.returncode}\n"
                                   + self.tail_logs())

    def tail_logs(self, lines=40):
        return "\n".join(f"--- {p.name} ---\n" + "\n".join(p.log().splitlines()[-lines:])
                         for p in self.processes.values())

    def url(self, path):
        return f"{self.base_url}{path}"


class ServiceClients:
    """Every service by name over RPC, through the gateway's own pool of clients, on the test
    virtual host: ``rpc.registry.health()``. A ``request_id=`` keyword travels as the
    gateway's does; a service's error arrives as nameko deserializes it (``RemoteError``, or
    the registered exception)."""

    def __init__(self, amqp_uri, timeout=10):
        self._pool = RpcPool(amqp_uri, size=4, timeout=timeout)

    def __getattr__(self, service):
        return _ServiceClient(self._pool, service)

    def close(self):
        self._pool.close()


class _ServiceClient:
    def __init__(self, pool, service):
        self._pool = pool
        self._service = service

    def __getattr__(self, method):
        return functools.partial(self._pool.call, self._service, method)

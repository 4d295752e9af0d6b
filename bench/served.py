"""`python -m bench --served`: the app under gunicorn, loaded by Locust.

The in-process bench times Django alone; this mode measures what a client sees: the
app served by gunicorn (N sync workers, DEBUG off, the bench database, Redis when
REDIS_URL is set) and loaded by Locust in headless mode, each simulated client asking
for one URL back to back. Each measure runs at 1, 8 and 32 concurrent clients, and
the report shows requests per second and the 95th percentile latency side by side.

Locust runs on the same machine as gunicorn, so on a small machine the load generator
takes CPU from the app: compare figures from one run, not across machines.
"""

import csv
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from accounts.models import ApiToken
from accounts.services import create_api_token
from bench.measures import MEASURES, BenchContext

SERVED_MEASURES = ("customer_list_page", "customer_record_page", "customer_api_list", "customer_baseline")
CONCURRENCY = (1, 8, 32)
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
BASE_DIR = Path(settings.BASE_DIR)


@dataclass
class Credentials:
    secret_key: str
    session_id: str
    token: str


def database_url() -> str:
    """The bench database as a DATABASE_URL for gunicorn's workers."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def sign_in(rep, token_name: str) -> Credentials:
    """A session and a read token for the rep, signed with a key the served app shares."""
    secret_key = secrets.token_urlsafe(50)
    with override_settings(SECRET_KEY=secret_key):
        client = Client()
        client.force_login(rep)
        session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    _, token = create_api_token(user=rep, name=token_name, scope=ApiToken.Scope.READ)
    return Credentials(secret_key=secret_key, session_id=session_id, token=token)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving config.wsgi with the bench settings, stopped on exit."""

    def __init__(self, *, workers: int, credentials: Credentials, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "gunicorn.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.served_settings",
            "DEBUG": "false",
            "SECRET_KEY": credentials.secret_key,
            "DATABASE_URL": database_url(),
            "STATIC_MANIFEST": "false",  # static files are not measured; no collectstatic needed
            # Throttling stays on (each API request reads and writes its counter in the
            # cache), at a rate the load cannot reach: at the default 600/min the API
            # list would be measured answering 429s. A one-second window keeps the
            # counter's history as short as production's.
            "API_THROTTLE_USER_RATE": "100000/sec",
        }
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            "--log-level=warning",
            f"--error-logfile={self.log}",
        ]
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, env=self.env, cwd=BASE_DIR)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text() if self.log.exists() else ''}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310 -- local
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def headers_for(client_kind: str, credentials: Credentials) -> dict[str, str]:
    if client_kind == "token":
        return {"Authorization": f"Token {credentials.token}"}
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={credentials.session_id}"}


def warm_up(url: str, headers: dict[str, str], requests: int = 30):
    """Fill every worker's caches (templates, permissions, connections) before timing."""
    for _ in range(requests):
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 -- local
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 -- local
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status} for {url}")


def locust(*, host: str, path: str, users: int, seconds: int, env: dict, workdir: Path) -> dict:
    """One headless Locust run: `users` clients on one URL for `seconds`; its summary."""
    prefix = workdir / f"locust-{users}-{abs(hash(path))}"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={seconds}s",
        f"--host={host}",
        f"--csv={prefix}",
        "--only-summary",
        "--loglevel=WARNING",
        "--stop-timeout=5",
    ]
    subprocess.run(
        command, env={**os.environ, **env, "BENCH_PATH": path}, cwd=BASE_DIR, check=False, capture_output=True
    )
    with open(f"{prefix}_stats.csv", newline="") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "Aggregated")
    return {
        "users": users,
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "throughput_rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "max_ms": float(row["Max Response Time"]),
    }


def run_served(*, ctx: BenchContext, rep, workers: int, seconds: int, token_name: str) -> dict:
    credentials = sign_in(rep, token_name)
    results = {}
    with tempfile.TemporaryDirectory(prefix="concord-served-") as tmp:
        workdir = Path(tmp)
        with Gunicorn(workers=workers, credentials=credentials, workdir=workdir) as server:
            print(
                f"\nServing with gunicorn ({workers} sync workers, DEBUG off) at {server.url}; Locust headless, "
                f"{seconds} s per measure and client count, no think time."
            )
            for name in SERVED_MEASURES:
                measure = MEASURES[name]
                path = measure.path(ctx)
                headers = headers_for(measure.client, credentials)
                warm_up(server.url + path, headers)
                env = (
                    {"BENCH_TOKEN": credentials.token}
                    if measure.client == "token"
                    else {"BENCH_SESSION": credentials.session_id}
                )
                cells = []
                for users in CONCURRENCY:
                    cell = locust(host=server.url, path=path, users=users, seconds=seconds, env=env, workdir=workdir)
                    cells.append(cell)
                    print(
                        f"  {name:<24} {users:>2} clients: {cell['throughput_rps']:7.1f} req/s, "
                        f"p95 {cell['p95_ms']:.0f} ms" + (f", {cell['failures']} failed" if cell["failures"] else "")
                    )
                results[name] = {"title": measure.title, "url": path, "client": measure.client, "cells": cells}
    return results


def served_ratios(results: dict) -> dict:
    api, baseline = results.get("customer_api_list"), results.get("customer_baseline")
    if not (api and baseline):
        return {}
    return {
        str(a["users"]): a["throughput_rps"] / b["throughput_rps"]
        for a, b in zip(api["cells"], baseline["cells"], strict=True)
        if b["throughput_rps"]
    }


def served_targets(results: dict) -> dict:
    targets = {}
    page = results.get("customer_list_page")
    if page:
        single = page["cells"][0]
        targets["customer_list_page_p95"] = {
            "title": "Customer list page p95 ≤ 40 ms (1 client)",
            "figure": single["p95_ms"],
            "unit": "ms",
            "met": single["p95_ms"] <= 40,
        }
    for users, ratio in served_ratios(results).items():
        targets[f"customer_api_vs_baseline_{users}"] = {
            "title": f"API list throughput ≥ 0.6 × hand-written view ({users} clients)",
            "figure": ratio,
            "unit": "×",
            "met": ratio >= 0.6,
        }
    return targets


def print_served(results: dict, targets: dict):
    width = max([len("measure"), *(len(r["title"]) for r in results.values())])
    head = "".join(f"{f'{n} client' + ('s' if n > 1 else ''):>20}" for n in CONCURRENCY)
    sub = "".join(f"{'req/s':>10}{'p95 ms':>10}" for _ in CONCURRENCY)
    print(f"\n{'':<{width}}{head}\n{'measure':<{width}}{sub}")
    for result in results.values():
        cells = "".join(f"{c['throughput_rps']:>10.1f}{c['p95_ms']:>10.0f}" for c in result["cells"])
        failed = sum(c["failures"] for c in result["cells"])
        print(f"{result['title']:<{width}}{cells}" + (f"   ({failed} failed)" if failed else ""))
    ratios = served_ratios(results)
    if ratios:
        print(f"{'API list ÷ baseline (req/s)':<{width}}" + "".join(f"{r:>10.2f}{'':>10}" for r in ratios.values()))
    print("\nTargets (served)")
    for t in targets.values():
        print(f"  {'PASS' if t['met'] else 'MISS'}  {t['title']}: {t['figure']:.2f} {t['unit']}")

"""Runs the bench: bench database, seed, measure, report (table + JSON)."""

import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import django
from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken, User
from accounts.services import create_api_token
from bench import billing, dunning, receivables, seed  # noqa: F401 - dunning registers its measures
from bench.database import bench_database
from bench.measures import MEASURES, TARGETS, BenchContext, build_context

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# Measured like production: DEBUG off (no query log, no debug templates), the bench
# URLconf (app + baseline view), and the test client's host allowed. API throttling
# stays on (each request reads and writes its counter in the cache) at a rate the
# bench cannot reach: at 600/min, runs that follow each other within a minute would
# share a Redis counter and measure 429s.
MEASURE_SETTINGS = {
    "DEBUG": False,
    "ALLOWED_HOSTS": ["testserver"],
    "ROOT_URLCONF": "bench.urls",
    "SECURE_SSL_REDIRECT": False,
    "REST_FRAMEWORK": {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "100000/sec"},
    },
}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Seed a large data set in a database of its own and measure pages and API against targets.",
    )
    parser.add_argument(
        "--customers", type=int, default=100_000, help="customers to seed (default 100000; ~2 contacts each)"
    )
    parser.add_argument(
        "--feed-items",
        type=int,
        default=seed.FEED_ITEMS,
        help=f"feed items to seed over the customers (default {seed.FEED_ITEMS}; 0: no feed)",
    )
    parser.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        help="seed no deals, quotes or service cases (the customer 360, board and their measures)",
    )
    parser.add_argument(
        "--invoices",
        type=int,
        default=billing.INVOICES,
        help=f"invoices to seed over the customers (default {billing.INVOICES}; 0: no invoices)",
    )
    parser.add_argument(
        "--plans",
        type=int,
        default=billing.PLANS,
        help=f"billing plans the recurring run bills (default {billing.PLANS}; made afresh each run)",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per measure (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per measure first (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse a kept bench database when it already holds --customers customers (implies --keep)",
    )
    parser.add_argument(
        "--measure",
        action="append",
        metavar="NAME",
        choices=sorted(MEASURES),
        help="run only this measure (repeatable); default: all",
    )
    parser.add_argument(
        "--served",
        action="store_true",
        help="serve the app with gunicorn and load it with Locust at 1, 8 and 32 clients instead of in-process",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (--served)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per measure and client count (--served)")
    parser.add_argument("--list", action="store_true", help="list the measures and targets, then exit")
    parser.add_argument(
        "--explain", action="store_true", help="print EXPLAIN ANALYZE of each measure's slowest queries"
    )
    parser.add_argument(
        "--profile", metavar="NAME", choices=sorted(MEASURES), help="cProfile one measure's timed requests"
    )
    args = parser.parse_args(argv)
    if (
        args.customers < 1
        or args.requests < 1
        or args.warmup < 0
        or min(args.feed_items, args.invoices, args.plans) < 0
    ):
        parser.error(
            "--customers and --requests must be at least 1, --warmup, --feed-items, --invoices and --plans at least 0"
        )
    if args.reuse:
        args.keep = True
    return args


def main(argv) -> int:
    args = parse_args(argv)
    if args.list:
        for m in MEASURES.values():
            print(f"measure {m.name:<24} {m.client:<8} {m.title}")
        for t in TARGETS.values():
            print(f"target  {t.name:<24} {t.title}")
        return 0

    started_at = datetime.now(UTC)
    # whitenoise warns about a missing STATIC_ROOT (never collected in development); irrelevant here.
    warnings.filterwarnings("ignore", message="No directory at")
    # axes logs every force_login at INFO.
    logging.getLogger("axes").setLevel(logging.WARNING)
    with override_settings(**MEASURE_SETTINGS), bench_database(reuse=args.reuse, keep=args.keep) as db:
        print(
            f"Concord bench — {db.server_version}, database {db.name} "
            f"({'reused if seeded' if db.reused else 'fresh'}{', kept afterwards' if args.keep else ', dropped afterwards'})"
        )
        reps = seed.seed_sales_reps()
        report = feed_report = None
        if args.reuse and seed.seeded_customers() == args.customers:
            print(f"Reusing {args.customers:,} seeded customers.")
        else:
            print(f"Seeding {args.customers:,} customers (~2 contacts each) over {len(reps)} sales reps …")
            report = seed.seed_customers(customers=args.customers, reps=reps)
            print(
                f"Seeded {report.customers:,} customers + {report.contacts:,} contacts in {report.seconds:.1f} s "
                f"({report.rows_per_second:,.0f} rows/s): {report.method}"
                + (f"; {'; '.join(report.notes)}" if report.notes else "")
            )
        if args.feed_items and (report is not None or seed.seeded_feed_items() != args.feed_items):
            print(f"Seeding {args.feed_items:,} feed items over the customers …")
            feed_report = seed.seed_feed(items=args.feed_items, reps=reps)
            print(
                f"Seeded {feed_report.items:,} feed items in {feed_report.seconds:.1f} s "
                f"({feed_report.rows_per_second:,.0f} rows/s; "
                + ", ".join(f"{name} {rows:,}" for name, rows in feed_report.rows.items())
                + f"): {feed_report.method}"
            )
        elif args.feed_items:
            print(f"Reusing {args.feed_items:,} seeded feed items.")
        # --- selling history (issue 8) ---
        customers = seed.seeded_customers()
        if args.history and (report is not None or seed.seeded_deals() != seed.expected_deals(customers)):
            print("Seeding deals (with lines), quotes and service cases on every 100th customer …")
            selling = seed.seed_selling()
            print(
                f"Seeded {', '.join(f'{name} {rows:,}' for name, rows in selling.rows.items())} on "
                f"{selling.customers:,} customers in {selling.seconds:.1f} s: {selling.method}"
            )
        elif args.history:
            print(f"Reusing {seed.seeded_deals():,} seeded deals.")
        if args.history:
            seed.seed_more_contacts()
        # --- billing (issue 9): after the deals, whose reseeding truncates invoices with them ---
        if args.invoices and billing.seeded_invoices() != args.invoices:
            print(f"Seeding {args.invoices:,} invoices (1–5 lines each) and their credit notes …")
            invoicing = billing.seed_invoices(invoices=args.invoices)
            print(
                f"Seeded {', '.join(f'{name} {rows:,}' for name, rows in invoicing.rows.items())} in "
                f"{invoicing.seconds:.1f} s ({invoicing.rows_per_second:,.0f} rows/s): {invoicing.method}; "
                + "; ".join(invoicing.notes)
            )
        elif args.invoices:
            print(f"Reusing {args.invoices:,} seeded invoices.")
        # --- receivables (issue 10): the invoices' payments, after them ---
        if args.invoices:
            receivables.seed_receivables(reuse=args.reuse)

        rep = reps[0]
        ctx = build_context(rep.pk)
        ctx.billing_plans = args.plans
        if args.served:
            return run_served_mode(args, db, report, ctx, rep, started_at)
        selected = [MEASURES[name] for name in (args.measure or MEASURES)]
        print(
            f"\nMeasuring in-process (django.test.Client, DEBUG off) as {rep.username}: "
            f"{args.warmup} warm-up + {args.requests} timed requests per measure, in interleaved rounds."
        )
        load_before = os.getloadavg()[0]
        results = measure_all(selected, ctx, rep, args)
        load = max(load_before, os.getloadavg()[0])
        busy = load > (os.cpu_count() or 1) * 0.75
        targets = evaluate_targets(results, ctx)
        print_report(results, targets, ctx)
        if busy:
            print(
                f"\nNote: the machine was busy (load average {load:.1f} on {os.cpu_count()} cores): latencies are "
                "inflated; compare the cpu ms column, or run again on a quiet machine."
            )
        path = write_json(args, db, report, ctx, results, targets, started_at, load, feed_report=feed_report)
        print(f"\nResults: {path.relative_to(settings.BASE_DIR)}")
        ApiToken.objects.filter(name=token_name()).delete()
    return 0 if all(r["ok"] or r.get("skipped") for r in results.values()) else 2


def run_served_mode(args, db, report, ctx, rep, started_at) -> int:
    from bench import served

    load_before = os.getloadavg()[0]
    try:
        results = served.run_served(
            ctx=ctx, rep=rep, workers=args.workers, seconds=args.seconds, token_name=token_name()
        )
    finally:
        ApiToken.objects.filter(name=token_name()).delete()
    load = max(load_before, os.getloadavg()[0])
    targets = served.served_targets(results)
    served.print_served(results, targets)
    if load > (os.cpu_count() or 1) * 0.75:
        print(f"\nNote: the machine was busy (load average {load:.1f} on {os.cpu_count()} cores; Locust included).")
    path = write_json(
        args, db, report, ctx, {}, targets, started_at, load, served={"workers": args.workers, "measures": results}
    )
    print(f"\nResults: {path.relative_to(settings.BASE_DIR)}")
    return 0 if all(c["failures"] == 0 for r in results.values() for c in r["cells"]) else 2


def token_name() -> str:
    # One token per run: two runs sharing a kept bench database must not revoke each other's.
    return f"bench run {os.getpid()}"


def clients_for(rep) -> dict[str, Client]:
    # A page that crashes is reported as that measure's failure (HTTP 500), not a crash of the bench.
    session = Client(raise_request_exception=False)
    session.force_login(rep)
    _, key = create_api_token(user=rep, name=token_name(), scope=ApiToken.Scope.READ)
    return {"session": session, "token": Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")}


def client_for(measure, ctx: BenchContext, clients: dict) -> Client | None:
    """The measure's client: the rep's, or a session of the person `as_user` names."""
    if measure.call is not None or measure.once is not None:
        return None
    if not measure.as_user:
        return clients[measure.client]
    user_id = getattr(ctx, measure.as_user)
    if not user_id:  # nobody to sign in as (e.g. no feed seeded): the measure is skipped
        return None
    if ("session", user_id) not in clients:
        session = clients[("session", user_id)] = Client(raise_request_exception=False)
        session.force_login(User.objects.get(pk=user_id))
    return clients[("session", user_id)]


ROUNDS = 10


def measure_all(selected, ctx: BenchContext, rep, args) -> dict:
    """Warm every measure up, then time them in interleaved rounds, so a burst of load
    on the machine hits all of them alike and the ratios between them stay fair."""
    clients = clients_for(rep)
    runs = [MeasureRun(m, client_for(m, ctx, clients), m.path(ctx), args.profile == m.name, ctx) for m in selected]
    for run in runs:
        run.prepare(args.warmup)
    rounds = min(ROUNDS, args.requests)
    for number in range(rounds):
        share = args.requests // rounds + (1 if number < args.requests % rounds else 0)
        for run in runs:
            run.time(share)
    # Scenarios last: they write (invoices, plans), and the timed rounds compare like with like.
    for run in runs:
        run.run_once()
    results = {}
    for run in runs:
        result = results[run.measure.name] = run.result()
        state = (
            f"done in {result['seconds']:.1f} s"
            if result.get("once")
            else f"{result['p95_ms']:.1f} ms p95"
            if result["ok"]
            else f"skipped: {result['error']}"
            if result.get("skipped")
            else f"FAILED: {result['error']}"
        )
        print(f"  {run.measure.name:<24} {state}")
        if run.profile is not None:
            print_profile(run.profile, run.measure.name)
        if args.explain and result.get("queries_sql"):
            explain(run.measure.name, result["queries_sql"])
    return results


class MeasureRun:
    """One measure's requests: warm-up, one request with its queries captured, then
    timed requests (in rounds), and the figures."""

    def __init__(self, measure, client: Client | None, url: str, profile: bool, ctx: BenchContext):
        self.measure, self.client, self.url = measure, client, url
        self.profile = cProfile.Profile() if profile else None
        self.error = None
        self.skipped = False
        self.call = None
        if measure.name.startswith("feed_") and not ctx.feed_items:
            self.error, self.skipped = "no feed seeded (--feed-items)", True
        elif measure.name.startswith(("invoice_list", "invoice_api")) and not ctx.invoices:
            self.error, self.skipped = "no invoices seeded (--invoices)", True
        elif measure.name.startswith("receivables_") and not ctx.open_customer_id:
            self.error, self.skipped = "no payments seeded (--invoices)", True
        elif not url:
            self.error, self.skipped = "no such page on this branch", True
        elif measure.call is not None:
            self.call = measure.call(ctx)
        self.ctx = ctx
        self.figures: dict | None = None
        self.seconds = 0.0
        self.latencies: list[float] = []
        self.cpu_seconds = 0.0
        self.queries: list[dict] = []
        self.response_bytes = 0

    def get(self):
        if self.call is not None:
            try:
                return self.call()
            except Exception as error:  # reported as the measure's failure, like a page's 500
                raise MeasureError(f"{type(error).__name__}: {error}") from error
        response = self.client.get(self.url)
        if response.status_code != self.measure.status:
            raise MeasureError(f"HTTP {response.status_code} for {self.url}")
        return response

    def prepare(self, warmup: int):
        if self.error or self.measure.once is not None:
            return
        try:
            for _ in range(warmup):
                self.get()
            # The query log is a bounded deque: empty it, or a full one makes the capture count 0.
            reset_queries()
            timer = QueryTimer()
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
                response = self.get()
        except MeasureError as error:
            self.error = str(error)
            return
        # Copied now: the next request's request_started signal empties the log.
        captured_queries = captured.captured_queries
        self.queries = [
            {"sql": query["sql"], "ms": ms}
            for query, ms in zip(captured_queries, timer.timings(len(captured_queries)), strict=True)
        ]
        self.response_bytes = len(getattr(response, "content", b""))

    def time(self, requests: int):
        if self.error or self.measure.once is not None:
            return
        if self.profile is not None:
            self.profile.enable()
        cpu_started = time.process_time()
        try:
            for _ in range(requests):
                start = time.perf_counter()
                self.get()
                self.latencies.append(time.perf_counter() - start)
        except MeasureError as error:
            self.error = str(error)
        finally:
            self.cpu_seconds += time.process_time() - cpu_started
            if self.profile is not None:
                self.profile.disable()

    def run_once(self):
        """A scenario measure: run it once, keep the figures it returns."""
        if self.error or self.measure.once is None:
            return
        started = time.perf_counter()
        try:
            self.figures = self.measure.once(self.ctx)
        except Exception as error:  # reported as the measure's failure, like a page's 500
            logging.getLogger(__name__).exception("%s failed", self.measure.name)
            self.error = f"{type(error).__name__}: {error}"
        self.seconds = time.perf_counter() - started

    def result(self) -> dict:
        described = {"title": self.measure.title, "url": self.url, "client": self.measure.client}
        if self.error:
            return {"ok": False, "error": self.error, "skipped": self.skipped, **described}
        if self.measure.once is not None:
            return {"ok": True, "once": True, **described, "seconds": self.seconds, "figures": self.figures}
        ms = sorted(latency * 1000 for latency in self.latencies)
        return {
            "ok": True,
            **described,
            "requests": len(ms),
            "p50_ms": statistics.median(ms),
            "p95_ms": percentile(ms, 95),
            "max_ms": ms[-1],
            "mean_ms": statistics.fmean(ms),
            "throughput_rps": len(ms) / (sum(ms) / 1000),
            # Python CPU time of this process per request: steadier than latency on a busy machine.
            "cpu_ms": self.cpu_seconds * 1000 / len(ms),
            "queries": len(self.queries),
            "sql_ms": sum(q["ms"] for q in self.queries),
            "response_bytes": self.response_bytes,
            "queries_sql": sorted(self.queries, key=lambda q: -q["ms"]),
        }


class MeasureError(Exception):
    pass


class QueryTimer:
    """An execute wrapper timing each query to the microsecond (the query log keeps milliseconds)."""

    def __init__(self):
        self.ms: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms.append((time.perf_counter() - start) * 1000)

    def timings(self, count: int) -> list[float]:
        return self.ms if len(self.ms) == count else [0.0] * count


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the value below which pct% of requests fall."""
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil
    return sorted_values[int(rank) - 1]


def evaluate_targets(results: dict, ctx: BenchContext) -> dict:
    evaluated = {}
    for t in TARGETS.values():
        figure, met = t.evaluate(results)
        evaluated[t.name] = {"title": t.title, "figure": figure, "unit": t.unit, "met": met}
    return evaluated


RATIOS = {
    # name: (numerator measure, denominator measure) — throughput ratios.
    "API list ÷ hand-written baseline": ("customer_api_list", "customer_baseline"),
    "List page ÷ hand-written baseline": ("customer_list_page", "customer_baseline"),
}


def compute_ratios(results: dict) -> dict:
    ratios = {}
    for label, (top, bottom) in RATIOS.items():
        a, b = results.get(top), results.get(bottom)
        if a and b and a["ok"] and b["ok"]:
            ratios[label] = a["throughput_rps"] / b["throughput_rps"]
    return ratios


def print_report(results: dict, targets: dict, ctx: BenchContext):
    width = max([len("measure"), *(len(result["title"]) for result in results.values())])
    print(
        f"\n{'measure':<{width}} {'reqs':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>8} {'queries':>8} "
        f"{'sql ms':>7} {'cpu ms':>7}"
    )
    for result in results.values():
        if result.get("once"):
            continue
        if not result["ok"]:
            print(
                f"{result['title']:<{width}} {'—':>5}  {'skipped: ' if result.get('skipped') else ''}{result['error']}"
            )
            continue
        print(
            f"{result['title']:<{width}} {result['requests']:>5} {result['p50_ms']:>8.1f} {result['p95_ms']:>8.1f} "
            f"{result['max_ms']:>8.1f} {result['throughput_rps']:>8.1f} {result['queries']:>8} {result['sql_ms']:>7.1f} "
            f"{result['cpu_ms']:>7.1f}"
        )
    scenarios = [result for result in results.values() if result.get("once")]
    if scenarios:
        print("\nScenarios (run once)")
        for result in scenarios:
            figures = ", ".join(f"{name} {_figure(value)}" for name, value in result["figures"].items())
            print(f"  {result['title']} ({result['seconds']:.1f} s): {figures}")
    ratios = compute_ratios(results)
    if ratios:
        print("\nRatios (throughput; ≥ 1 is faster than the hand-written view)")
        for label, ratio in ratios.items():
            print(f"  {label}: {ratio:.2f}")
    print(
        "\nTargets"
        + ("" if ctx.customers >= 100_000 else f" (set at 100,000 customers; this run has {ctx.customers:,})")
    )
    for t in targets.values():
        if t["met"] is None:
            print(f"  ----  {t['title']}: not measured")
        else:
            print(f"  {'PASS' if t['met'] else 'MISS'}  {t['title']}: {t['figure']:.2f} {t['unit']}")


def _figure(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def print_profile(profile: cProfile.Profile, name: str):
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{name}.prof"
    profile.dump_stats(path)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(35)
    print(out.getvalue())
    print(f"  profile saved: {path} (snakeviz or pstats)")


def explain(name: str, queries: list[dict], slowest: int = 3):
    print(f"\n  EXPLAIN for {name}:")
    for query in queries[:slowest]:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        prefix = "EXPLAIN (ANALYZE, BUFFERS)" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
        with connection.cursor() as cursor:
            cursor.execute(f"{prefix} {sql}")
            plan = "\n".join("      " + " ".join(str(col) for col in row) for row in cursor.fetchall())
        print(f"    [{query['ms']:.2f} ms] {sql[:300]}{'…' if len(sql) > 300 else ''}\n{plan}")


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=settings.BASE_DIR, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_json(args, db, report, ctx, results, targets, started_at, load, served=None, feed_report=None) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{started_at:%Y%m%d-%H%M%S}{'-served' if served else ''}.json"
    data = {
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "git_commit": git_commit(),
        "argv": sys.argv[1:],
        "environment": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average": load,
            "database": db.server_version,
            "database_name": db.name,
        },
        "scale": {"customers": ctx.customers, "feed_items": ctx.feed_items, "invoices": ctx.invoices},
        "seed": None
        if report is None
        else {
            "customers": report.customers,
            "contacts": report.contacts,
            "users": report.users,
            "seconds": report.seconds,
            "rows_per_second": report.rows_per_second,
            "method": report.method,
            "notes": report.notes,
        },
        "feed_seed": None
        if feed_report is None
        else {
            "items": feed_report.items,
            "rows": feed_report.rows,
            "seconds": feed_report.seconds,
            "rows_per_second": feed_report.rows_per_second,
            "method": feed_report.method,
        },
        "requests": args.requests,
        "warmup": args.warmup,
        "measures": {
            name: {k: v for k, v in r.items() if k != "queries_sql"} | {"slowest_queries": r.get("queries_sql", [])[:3]}
            for name, r in results.items()
        },
        "ratios": compute_ratios(results),
        "targets": targets,
    }
    if served:
        data["mode"] = "served"
        data["served"] = served
    else:
        data["mode"] = "in-process"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path

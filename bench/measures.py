"""What the bench measures, and the targets it checks: two small registries.

A measure is a GET request, made by a signed-in sales rep (`session`) or with that
rep's read-only API token (`token`), repeated after a warm-up. A target reads the
results and says PASS or MISS. Later issues add theirs here:

    @measure("invoice_list", "Invoice list page", client="session")
    def invoice_list(ctx):
        return "/invoices/"
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count

from crm.models import Customer


@dataclass(frozen=True)
class Measure:
    name: str
    title: str
    client: str  # "session" (signed-in rep) or "token" (API token of that rep)
    path: Callable[["BenchContext"], str]


@dataclass(frozen=True)
class Target:
    name: str
    title: str
    evaluate: Callable[[dict], tuple[float | None, bool | None]]  # results by measure → (figure, met?)
    unit: str = ""


@dataclass
class BenchContext:
    """Facts about the seeded data that measures build their URLs from."""

    rep_id: int
    customers: int
    search_term: str
    busy_owner_id: int
    record_id: int  # a customer with contacts, for the record page


MEASURES: dict[str, Measure] = {}
TARGETS: dict[str, Target] = {}


def measure(name: str, title: str, *, client: str = "session"):
    def register(path: Callable[[BenchContext], str]):
        MEASURES[name] = Measure(name=name, title=title, client=client, path=path)
        return path

    return register


def target(name: str, title: str, *, unit: str = ""):
    def register(evaluate):
        TARGETS[name] = Target(name=name, title=title, evaluate=evaluate, unit=unit)
        return evaluate

    return register


def build_context(rep_id: int) -> BenchContext:
    busiest = Customer.objects.values("owner_id").annotate(n=Count("id")).order_by("-n").first()
    return BenchContext(
        rep_id=rep_id,
        customers=Customer.objects.count(),
        # A trade word: matches ~4% of customers, spread over the whole table.
        search_term="pharma",
        busy_owner_id=busiest["owner_id"] if busiest else rep_id,
        record_id=Customer.objects.filter(contacts__isnull=False)
        .order_by("name", "id")
        .values_list("pk", flat=True)
        .first()
        or 0,
    )


# --- customers (issue 2) --------------------------------------------------------------


@measure("customer_list_page", "Customer list page (first page, default sort)")
def customer_list_page(ctx):
    return "/customers/"


@measure("customer_list_summary", "Customer list: count + credit totals (htmx, after load)")
def customer_list_summary(ctx):
    return "/customers/?_part=summary"


@measure("customer_search_page", "Customer list page, search + filter")
def customer_search_page(ctx):
    return f"/customers/?q={ctx.search_term}&status=active"


@measure("customer_owner_page", "Customer list page, owner filter")
def customer_owner_page(ctx):
    return f"/customers/?owner={ctx.busy_owner_id}"


@measure("customer_record_page", "Customer record page (with contacts)")
def customer_record_page(ctx):
    return f"/customers/{ctx.record_id}/"


@measure("customer_api_list", "API /api/v1/customers/ (token)", client="token")
def customer_api_list(ctx):
    return "/api/v1/customers/"


@measure("customer_api_search", "API /api/v1/customers/?q= (token)", client="token")
def customer_api_search(ctx):
    return f"/api/v1/customers/?q={ctx.search_term}&status=active"


@measure("customer_baseline", "Hand-written values() + JsonResponse", client="session")
def customer_baseline(ctx):
    return "/bench/baseline/customers/"


@target("customer_list_page_p95", "Customer list page p95 ≤ 40 ms at 100k customers", unit="ms")
def customer_list_page_p95(results):
    result = results.get("customer_list_page")
    if not result or not result.get("ok"):
        return None, None
    return result["p95_ms"], result["p95_ms"] <= 40


@target("customer_list_summary_p95", "Customer list summary p95 ≤ 40 ms at 100k customers", unit="ms")
def customer_list_summary_p95(results):
    result = results.get("customer_list_summary")
    if not result or not result.get("ok"):
        return None, None
    return result["p95_ms"], result["p95_ms"] <= 40


@target("customer_api_vs_baseline", "API list throughput ≥ 0.6 × hand-written view", unit="×")
def customer_api_vs_baseline(results):
    api, baseline = results.get("customer_api_list"), results.get("customer_baseline")
    if not (api and baseline and api.get("ok") and baseline.get("ok")):
        return None, None
    ratio = api["throughput_rps"] / baseline["throughput_rps"]
    return ratio, ratio >= 0.6

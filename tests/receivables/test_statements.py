"""Customer statements: the open items as of a day with their running balance, checked
against hand-computed figures; the PDF read back with pdftotext; the email as the
loopback SMTP server received it; the monthly job run twice sending once; who may."""

import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration.models import FeedItem
from core import documents
from core.models import Document
from core.tasks import render_document
from core.templatetags.concord import amount_filter, local_date_filter
from receivables import services, statements, tasks
from receivables.models import Standing, Statement
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = date(2026, 6, 30)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def pay(clerk, customer, amount, on, allocations=None):
    data = {"received_on": on, "amount": amount, "method": "bank_transfer", "reference": f"BANK-{amount}"}
    return services.record_payment(customer=customer, by=clerk, data=data, allocations=allocations)


@pytest.fixture
def ledger(issue, clerk, customer):
    """Hand-computed at AS_OF (30-day terms):

    A 1,000.00 issued 03-01, due 03-31, 91 days late, 400.00 paid 04-15 → 600.00 open (90+)
    D   300.00 issued 04-10, due 05-10, 51 days late                    → 300.00 (31–60)
    B   500.00 issued 05-15, due 06-14, 16 days late; paid in full 07-05, after AS_OF → 500.00 (1–30)
    P2  150.00 received 06-10, not applied                              → −150.00 credit
    C   200.00 issued 06-20, due 07-20                                  → 200.00 (current)
    """
    a = issue("1000.00", on=date(2026, 3, 1))
    d = issue("300.00", on=date(2026, 4, 10))
    b = issue("500.00", on=date(2026, 5, 15))
    c = issue("200.00", on=date(2026, 6, 20))
    pay(clerk, customer, "400.00", date(2026, 4, 15), [(a, "400.00")])
    credit = pay(clerk, customer, "150.00", date(2026, 6, 10), [])
    pay(clerk, customer, "500.00", date(2026, 7, 5), [(b, "500.00")])
    return {"a": a, "b": b, "c": c, "d": d, "credit": credit}


def rows(section):
    return [(item.number, item.open_amount, item.balance) for item in section.items]


def pdf_text(data: bytes, *pages: int) -> str:
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    command = ["pdftotext", "-layout", *first_last, "-", "-"]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout.decode()


def page_count(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])


def pdf_of(statement) -> bytes:
    document = documents.document_for(statement, statements.STATEMENT_DOCUMENT)
    assert document is not None and document.status == Document.Status.READY, document and document.error
    return documents.document_pdf_bytes(document)


# --- the content -----------------------------------------------------------------------------


class TestOpenItems:
    def test_items_in_date_order_with_the_running_balance(self, ledger, customer):
        report = statements.statement_for(customer, AS_OF)
        (eur,) = report.currencies
        a, b, c, d, credit = (ledger[key] for key in ("a", "b", "c", "d", "credit"))
        assert rows(eur) == [
            (a.number, D("600.00"), D("600.00")),
            (d.number, D("300.00"), D("900.00")),
            (b.number, D("500.00"), D("1400.00")),
            (credit.number, D("-150.00"), D("1250.00")),
            (c.number, D("200.00"), D("1450.00")),
        ]
        assert (eur.invoiced, eur.credit, eur.balance, eur.overdue) == (
            D("1600.00"),
            D("150.00"),
            D("1450.00"),
            D("1400.00"),
        )

    def test_each_invoice_has_its_due_date_days_overdue_and_bucket(self, ledger, customer):
        (eur,) = statements.statement_for(customer, AS_OF).currencies
        facts = [(item.due_date, item.days_overdue, item.bucket and item.bucket.key) for item in eur.items]
        assert facts == [
            (date(2026, 3, 31), 91, "over_90"),
            (date(2026, 5, 10), 51, "days_31_60"),
            (date(2026, 6, 14), 16, "days_1_30"),
            (None, 0, None),  # the payment
            (date(2026, 7, 20), 0, "current"),
        ]
        assert eur.items[3].reference == "BANK-150.00" and not eur.items[3].is_invoice

    def test_the_aging_row_reconciles_with_the_open_invoices(self, ledger, customer):
        (eur,) = statements.statement_for(customer, AS_OF).currencies
        assert [(bucket.key, amount) for bucket, amount in eur.buckets] == [
            ("current", D("200.00")),
            ("days_1_30", D("500.00")),
            ("days_31_60", D("300.00")),
            ("days_61_90", D("0.00")),
            ("over_90", D("600.00")),
        ]
        assert sum(amount for _, amount in eur.buckets) == eur.invoiced

    def test_a_payment_after_the_day_does_not_count_but_does_later(self, ledger, customer):
        (eur,) = statements.statement_for(customer, date(2026, 7, 31)).currencies
        numbers = [item.number for item in eur.items]
        assert ledger["b"].number not in numbers  # paid on 07-05
        assert eur.balance == D("950.00")  # 600 + 300 + 200 − 150

    def test_a_day_before_anything_happened_is_empty(self, ledger, customer):
        assert statements.statement_for(customer, date(2026, 2, 1)).is_empty

    def test_credit_alone_is_a_negative_balance(self, clerk, customer):
        pay(clerk, customer, "80.00", date(2026, 6, 1), [])
        (eur,) = statements.statement_for(customer, AS_OF).currencies
        assert (eur.invoiced, eur.credit, eur.balance) == (D("0.00"), D("80.00"), D("-80.00"))

    def test_other_customers_items_never_show(self, ledger, issue, customer):
        issue("999.00", on=date(2026, 6, 1), who=CustomerFactory())
        (eur,) = statements.statement_for(customer, AS_OF).currencies
        assert eur.invoiced == D("1600.00")

    def test_it_reads_three_queries_however_many_items(self, ledger, issue, customer, django_assert_num_queries):
        with django_assert_num_queries(3):  # open invoices, unapplied payments, the aging row
            statements.statement_for(customer, AS_OF)
        for _ in range(10):
            issue("10.00", on=date(2026, 6, 1))
        with django_assert_num_queries(3):
            assert len(statements.statement_for(customer, AS_OF).currencies[0].items) == 15

    def test_the_monthly_as_of_is_the_previous_months_last_day(self):
        assert statements.last_month_end(date(2026, 3, 1)) == date(2026, 2, 28)
        assert statements.last_month_end(date(2027, 1, 1)) == date(2026, 12, 31)


# --- the PDF ----------------------------------------------------------------------------------


class TestPDF:
    def test_the_pdf_shows_customer_items_running_balance_aging_and_how_to_pay(
        self, ledger, customer, rep, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            statement = statements.request_statement(customer=customer, by=rep, as_of=AS_OF)
        document = documents.document_for(statement, statements.STATEMENT_DOCUMENT)
        assert document.filename == "statement-acme-industries-gmbh-2026-06-30.pdf"
        text = pdf_text(pdf_of(statement))
        assert "Statement of account" in text and local_date_filter(AS_OF) in text
        assert customer.billing_name in text and "Friedrichstraße 10" in text
        for invoice in (ledger["a"], ledger["b"], ledger["c"], ledger["d"]):
            assert invoice.number in text
        assert ledger["credit"].number in text
        assert amount_filter(D("1450.00")) in text  # the running balance and the balance due
        assert amount_filter(D("1250.00")) in text  # the balance after the credit line
        assert "90+" in text and "31–60" in text  # the aging row
        assert "IBAN" in text and settings.COMPANY["bic"] in text and settings.COMPANY["name"] in text
        assert "Page 1 of 1" in text

    def test_asking_again_makes_it_anew_from_the_ledger_now(
        self, ledger, customer, rep, clerk, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            statement = statements.request_statement(customer=customer, by=rep, as_of=AS_OF)
        assert "BANK-77.00" not in pdf_text(pdf_of(statement))
        pay(clerk, customer, "77.00", date(2026, 6, 29), [])  # entered late, dated before the day
        with django_capture_on_commit_callbacks(execute=True):
            again = statements.request_statement(customer=customer, by=rep, as_of=AS_OF)
        assert again.pk == statement.pk and Statement.objects.count() == 1
        assert "BANK-77.00" in pdf_text(pdf_of(statement))

    def test_a_long_statement_repeats_the_table_header_and_numbers_its_pages(
        self, issue, customer, rep, django_capture_on_commit_callbacks
    ):
        for day in range(1, 29):
            for _ in range(3):
                issue("10.00", on=date(2026, 5, day))
        with django_capture_on_commit_callbacks(execute=True):
            statement = statements.request_statement(customer=customer, by=rep, as_of=AS_OF)
        data = pdf_of(statement)
        pages = page_count(data)
        assert pages >= 2
        for page in range(1, pages + 1):
            text = pdf_text(data, page)
            assert f"Page {page} of {pages}" in text
            if "INV-" in text:
                assert "Days overdue" in text and "Balance" in text, f"no table header on page {page}"
        assert amount_filter(D("840.00")) in pdf_text(data, pages)


# --- the email ----------------------------------------------------------------------------------


class TestEmail:
    def test_sending_emails_the_pdf_to_the_invoice_address_and_tells_the_feed(
        self, ledger, customer, finance_manager, smtp_inbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            statement = statements.send_statement(customer=customer, by=finance_manager, as_of=AS_OF)
        assert statement.sent_to == customer.email and statement.sent_at is not None
        (message,) = smtp_inbox.wait_for(1)
        assert message["X-Envelope-To"] == customer.email
        assert "Statement of account" in message["Subject"] and local_date_filter(AS_OF) in message["Subject"]
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert f"{amount_filter(D('1450.00'))} EUR" in body and amount_filter(D("1400.00")) in body
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "statement-acme-industries-gmbh-2026-06-30.pdf"
        text = pdf_text(attachment.get_content())
        assert ledger["a"].number in text and customer.billing_name in text
        assert attachment.get_content() == pdf_of(statement)  # the stored file itself
        item = FeedItem.objects.get(verb="statement.sent")
        assert item.data["to"] == customer.email and item.data["as_of"] == "2026-06-30"

    def test_sending_twice_for_the_same_day_needs_resend(
        self, ledger, customer, finance_manager, smtp_inbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            statements.send_statement(customer=customer, by=finance_manager, as_of=AS_OF)
        with pytest.raises(statements.StatementConflict), django_capture_on_commit_callbacks(execute=True):
            statements.send_statement(customer=customer, by=finance_manager, as_of=AS_OF)
        assert len(smtp_inbox.wait_for(1)) == 1
        with django_capture_on_commit_callbacks(execute=True):
            statements.send_statement(
                customer=customer, by=finance_manager, as_of=AS_OF, to="ap@acme.example", resend=True
            )
        first, second = smtp_inbox.wait_for(2)
        assert second["X-Envelope-To"] == "ap@acme.example"
        assert Statement.objects.get().sent_to == "ap@acme.example"

    def test_the_email_task_run_twice_sends_once(
        self, ledger, customer, finance_manager, smtp_inbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            statements.send_statement(customer=customer, by=finance_manager, as_of=AS_OF)
        (send,) = [callback for callback in callbacks if callback.__qualname__.startswith("_send.")]
        for callback in callbacks:
            callback()
        send()  # the same send delivered twice
        assert len(smtp_inbox.wait_for(1)) == 1
        assert len(smtp_inbox.messages) == 1

    def test_without_an_invoice_address_the_primary_contact_gets_it(
        self, ledger, customer, finance_manager, smtp_inbox, django_capture_on_commit_callbacks
    ):
        customer.email = ""
        customer.save()
        ContactFactory(customer=customer, is_primary=True, email="paula@acme.example")
        with django_capture_on_commit_callbacks(execute=True):
            statements.send_statement(customer=customer, by=finance_manager, as_of=AS_OF)
        assert smtp_inbox.wait_for(1)[0]["X-Envelope-To"] == "paula@acme.example"

    def test_no_address_at_all_is_a_field_error(self, customer, finance_manager):
        customer.email = ""
        customer.save()
        with pytest.raises(ValidationError) as error:
            statements.send_statement(customer=customer, by=finance_manager, as_of=AS_OF)
        assert "to" in error.value.message_dict
        assert not Statement.objects.exists()

    @pytest.mark.parametrize("to", ["not an address", "a@b", "x" * 300])
    def test_a_bad_address_is_a_field_error(self, customer, finance_manager, to):
        with pytest.raises(ValidationError) as error:
            statements.send_statement(customer=customer, by=finance_manager, as_of=AS_OF, to=to)
        assert "to" in error.value.message_dict


# --- the monthly job -------------------------------------------------------------------------


class TestMonthly:
    @pytest.fixture
    def book(self, issue, clerk, customer, finance_manager):
        """Acme (opted in, owes), Globex (opted in, holds credit only), Initech (opted in,
        owes nothing), Umbrella (owes, not opted in)."""
        globex, initech, umbrella = (CustomerFactory(name=name) for name in ("Globex", "Initech", "Umbrella"))
        issue("100.00", on=date(2026, 6, 1))
        pay(clerk, globex, "40.00", date(2026, 6, 5), [])
        issue("70.00", on=date(2026, 6, 1), who=umbrella)
        for who in (customer, globex, initech):
            statements.set_monthly_statement(customer=who, by=finance_manager, enabled=True)
        return {"globex": globex, "initech": initech, "umbrella": umbrella}

    def test_it_sends_to_who_opted_in_and_owes_or_holds_credit_once_however_often_it_runs(
        self, book, customer, smtp_inbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert statements.send_monthly_statements(as_of=AS_OF) == 2
        with django_capture_on_commit_callbacks(execute=True):
            assert statements.send_monthly_statements(as_of=AS_OF) == 0
        messages = smtp_inbox.wait_for(2)
        assert sorted(message["X-Envelope-To"] for message in messages) == sorted(
            [customer.email, book["globex"].email]
        )
        assert len(smtp_inbox.messages) == 2
        assert set(Statement.objects.values_list("customer__name", flat=True)) == {"Acme Industries GmbH", "Globex"}

    def test_a_customer_without_an_address_is_skipped(self, book, customer, django_capture_on_commit_callbacks):
        customer.email = ""
        customer.save()
        with django_capture_on_commit_callbacks(execute=True):
            assert statements.send_monthly_statements(as_of=AS_OF) == 1

    def test_the_task_sends_last_months_statements_and_beat_runs_it_on_the_first(self, monkeypatch, book):
        asked = []
        monkeypatch.setattr(statements, "send_monthly_statements", lambda *, as_of: asked.append(as_of) or 0)
        monkeypatch.setattr("django.utils.timezone.localdate", lambda: date(2026, 7, 1))
        tasks.send_monthly_statements()
        assert asked == [AS_OF]
        entry = settings.CELERY_BEAT_SCHEDULE["receivables-monthly-statements"]
        assert entry["task"] == "receivables.tasks.send_monthly_statements" == tasks.send_monthly_statements.name
        assert entry["schedule"].day_of_month == {1}

    def test_turning_it_on_and_off_tells_the_feed(self, customer, finance_manager):
        statements.set_monthly_statement(customer=customer, by=finance_manager, enabled=True)
        statements.set_monthly_statement(customer=customer, by=finance_manager, enabled=True)  # no change
        statements.set_monthly_statement(customer=customer, by=finance_manager, enabled=False)
        assert list(FeedItem.objects.order_by("id").values_list("verb", flat=True)) == [
            "statement.monthly_on",
            "statement.monthly_off",
        ]
        assert Standing.objects.get(customer=customer).monthly_statement is False


# --- who may ------------------------------------------------------------------------------------


class TestPermissions:
    @pytest.mark.parametrize(
        ("actor", "allowed"),
        [
            ("rep", True),  # their own customer
            ("other_rep", False),
            ("sales_manager", True),
            ("clerk", True),
            ("finance_manager", True),
            ("admin", True),
            ("outsider", False),
        ],
    )
    def test_who_may_make_the_pdf(self, actors, customer, actor, allowed):
        if allowed:
            assert statements.request_statement(customer=customer, by=actors[actor], as_of=AS_OF).as_of == AS_OF
        else:
            with pytest.raises(PermissionDenied):
                statements.request_statement(customer=customer, by=actors[actor], as_of=AS_OF)

    @pytest.mark.parametrize(
        ("actor", "allowed"),
        [
            ("rep", False),
            ("other_rep", False),
            ("sales_manager", False),
            ("clerk", True),
            ("finance_manager", True),
            ("admin", True),
            ("outsider", False),
        ],
    )
    def test_only_finance_sends_and_chooses_monthly(self, actors, customer, actor, allowed):
        if allowed:
            statements.send_statement(customer=customer, by=actors[actor], as_of=AS_OF)
            statements.set_monthly_statement(customer=customer, by=actors[actor], enabled=True)
        else:
            with pytest.raises(PermissionDenied):
                statements.send_statement(customer=customer, by=actors[actor], as_of=AS_OF)
            with pytest.raises(PermissionDenied):
                statements.set_monthly_statement(customer=customer, by=actors[actor], enabled=True)
            assert not Statement.objects.exists()

    @pytest.mark.parametrize("as_of", ["2026-02-30", "yesterday", "2999-01-01", "2026-01-01\x00"])
    def test_a_bad_day_is_refused_and_nothing_written(self, customer, rep, finance_manager, as_of):
        with pytest.raises(ValidationError):
            statements.request_statement(customer=customer, by=rep, as_of=as_of)
        with pytest.raises(ValidationError):
            statements.send_statement(customer=customer, by=finance_manager, as_of=as_of)
        assert not Statement.objects.exists()


def test_the_render_task_for_a_statement_is_the_pipelines(ledger, customer, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        statement = statements.request_statement(customer=customer, by=rep, as_of=AS_OF)
    document = documents.document_for(statement, statements.STATEMENT_DOCUMENT)
    assert document.status == Document.Status.PENDING
    render_document(document.pk)
    document.refresh_from_db()
    assert document.status == Document.Status.READY

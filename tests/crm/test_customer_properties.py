"""Properties of the customer's terms and tax ids, over many generated values."""

import calendar
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crm.models import Customer, PaymentTerms, normalize_tax_id

issue_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
days = st.integers(min_value=0, max_value=365)


@given(issued=issue_dates, n=days)
def test_net_terms_fall_due_exactly_n_days_later(issued, n):
    assert Customer(payment_terms=PaymentTerms.NET, payment_days=n).due_date(issued) == issued + timedelta(days=n)


@given(issued=issue_dates, n=days)
def test_end_of_month_terms_count_from_the_last_day_of_the_month(issued, n):
    due = Customer(payment_terms=PaymentTerms.END_OF_MONTH, payment_days=n).due_date(issued)
    month_end = date(issued.year, issued.month, calendar.monthrange(issued.year, issued.month)[1])
    assert due == month_end + timedelta(days=n)
    assert due >= issued


@given(st.text(alphabet="deDE0123456789 .-/", max_size=30))
def test_normalizing_a_tax_id_is_idempotent_and_ignores_case_and_separators(raw):
    once = normalize_tax_id(raw)
    assert normalize_tax_id(once) == once
    assert normalize_tax_id(raw.lower()) == once
    assert not any(ch in once for ch in " .-/")

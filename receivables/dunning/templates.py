"""Notice templates: the fields a subject or body may use, checked when a policy is saved."""

from string import Formatter

from django.core.exceptions import ValidationError

# The fields a subject or body may use, as {name}. Anything else is refused when the policy
# is saved, so a notice never fails for a typo, and no template reaches an object's attributes.
TEMPLATE_FIELDS = {
    "customer.name": "the customer's name",
    "customer.number": "the customer's number",
    "invoices": "the invoices of the notice, one a line: number, due date, days overdue, balance",
    "total_due": "what the notice asks for, per currency",
    "oldest_due_date": "the due date of the oldest invoice in the notice",
    "days_overdue": "how many days the oldest invoice is overdue",
    "level": "the level's name",
    "fee": "the fees and interest charged with the notice (empty when none)",
    "as_of": "the day of the run",
    "company.name": "our company's name",
}


class _FlatFormatter(Formatter):
    """str.format over a flat dict whose keys may contain dots: {customer.name} is the
    key "customer.name", never an attribute lookup."""

    def get_field(self, field_name, args, kwargs):
        return kwargs[field_name], field_name


def check_template(text: str, *, field_name: str = "template") -> str:
    """`text` if it uses only TEMPLATE_FIELDS (no format specs); else a ValidationError
    naming the field it does not know."""
    try:
        parsed = list(Formatter().parse(text or ""))
    except ValueError as error:
        raise ValidationError(
            {field_name: f"The template cannot be read ({error}). Write a literal brace as {{{{ or }}}}."}
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS:
            known = ", ".join(f"{{{known}}}" for known in TEMPLATE_FIELDS)
            raise ValidationError({field_name: f"Unknown field {{{name}}} in the template. Use one of: {known}."})
        if spec or conversion:
            raise ValidationError({field_name: f"Write the field {{{name}}} without a format (no “:” or “!”)."})
    return text or ""


def render_template(text: str, values: dict[str, str]) -> str:
    return _FlatFormatter().vformat(text, (), values)

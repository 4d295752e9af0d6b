"""The table base every list page builds on (django-tables2)."""

import django_tables2 as tables
from django.core.paginator import EmptyPage
from django.forms.utils import flatatt
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django_tables2.paginators import LazyPaginator

MAX_PER_PAGE = 100


class CappedPaginator(LazyPaginator):
    """Pages without counting (a COUNT over 100,000 rows cost more than the rest of the
    page; a list shows the count after load instead), looking a page ahead, and
    honours ?per_page= between 1 and MAX_PER_PAGE, so nobody asks for 100,000 rows at once."""

    look_ahead = 1

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, max(1, min(int(per_page), MAX_PER_PAGE)), *args, **kwargs)

    def validate_number(self, number):
        number = super().validate_number(number)
        # No list has rows past a 64-bit OFFSET, and asking the database for them fails
        # (PostgreSQL: bigint out of range); such a page is simply not there.
        if (number + self.look_ahead) * self.per_page + self.orphans >= 2**63:
            raise EmptyPage("That page contains no results")
        return number


class FastRowsTable(tables.Table):
    """A table whose body rows are rendered in Python.

    django-tables2 renders each cell through the template engine, which made the
    25 rows cost most of the list page's time. Here a row is one string join
    over the columns' `render_<name>(value, record)` methods, so the columns,
    sorting and pagination stay django-tables2's and only the row loop is fast.
    A table using it prints `{{ row }}` for each of `table.rendered_rows` in its
    template's `table.tbody` block (see templates/core/fast_table.html).
    """

    def rendered_rows(self):
        columns = []
        for bound in self.columns:  # visible columns, in order
            render = getattr(self, f"render_{bound.name}", None)
            columns.append((bound, flatatt(bound.attrs.get("td", {})), render))
        for row in self.paginated_rows:
            record = row.record
            cells = []
            for bound, attrs, render in columns:
                value = bound.accessor.resolve(record, quiet=True)
                if value in bound.column.empty_values:
                    html = bound.default
                else:
                    html = render(value=value, record=record) if render else value
                # attrs come from flatatt (escaped); the cell is escaped unless already safe.
                cells.append(f"<td{attrs}>{conditional_escape(html)}</td>")
            yield mark_safe("<tr>" + "".join(cells) + "</tr>")  # noqa: S308 -- cells are escaped above

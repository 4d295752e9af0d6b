"""Dunning policies from the browser: a list with the default marked, a read-only page for
who may only read them, and for finance managers a form with the levels as an inline
formset (add a level, remove one) whose refusals (overlapping or unordered levels, an
unknown template field, a sent level removed) come back as messages on the form."""

from datetime import date

import pytest
from django.urls import reverse

from receivables import dunning
from receivables.models import DunningNotice, DunningNoticeLine, DunningPolicy, DunningRun
from tests.html import parse

pytestmark = pytest.mark.django_db

LIST = reverse("receivables:dunning_policy_list")
NEW = reverse("receivables:dunning_policy_create")


def detail(policy):
    return reverse("receivables:dunning_policy_detail", args=[policy.pk])


def level(n, days, name, **extra):
    row = {
        f"levels-{n}-days_after_due": str(days),
        f"levels-{n}-name": name,
        f"levels-{n}-channel": "email",
        f"levels-{n}-subject_template": "{level}: {customer.name}",
        f"levels-{n}-body_template": "Please pay {total_due}.",
        f"levels-{n}-fee": "",
        f"levels-{n}-interest_rate": "",
        f"levels-{n}-task_days": "",
    }
    row.update({f"levels-{n}-{key}": value for key, value in extra.items()})
    return row


def posted(name, *levels, initial=0, **extra):
    data = {
        "name": name,
        "active": "on",
        "_action": "save",
        "levels-TOTAL_FORMS": str(len(levels)),
        "levels-INITIAL_FORMS": str(initial),
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "50",
    }
    for row in levels:
        data.update(row)
    data.update(extra)
    return data


@pytest.mark.parametrize(
    "actor, status",
    [("finance_manager", 200), ("admin", 200), ("clerk", 200), ("sales_manager", 200), ("rep", 403), ("outsider", 403)],
)
def test_who_reads_the_policies(signed_in, actor, status):
    assert signed_in(actor).get(LIST).status_code == status


def test_the_list_marks_the_default_and_the_runs_page_links_to_it(signed_in):
    default = dunning.get_default_policy()
    runs = parse(signed_in("clerk").get(reverse("receivables:dunning_run_list")).text)
    assert runs.by_id("dunning-policies").attrs["href"] == LIST
    page = parse(signed_in("clerk").get(LIST).text)
    row = page.by_id(f"policy-{default.pk}")
    assert "Default" in row.text and "Final notice" in row.text
    assert not page.find_all(id="new-policy")
    assert parse(signed_in("finance_manager").get(LIST).text).by_id("new-policy")


def test_a_clerk_reads_a_policy_without_a_form_and_may_not_post(signed_in):
    default = dunning.get_default_policy()
    client = signed_in("clerk")
    page = parse(client.get(detail(default)).text)
    assert "Second notice" in page.by_id("policy-levels").text
    assert not page.find_all(id="policy-form")
    assert client.post(detail(default), posted("Hacked", level(0, 5, "x"))).status_code == 403
    assert client.get(NEW).status_code == 403
    default.refresh_from_db()
    assert default.name != "Hacked"


class TestEdit:
    def test_a_finance_manager_creates_a_policy_with_two_levels(self, signed_in):
        client = signed_in("finance_manager")
        assert parse(client.get(NEW).text).by_id("policy-form")
        data = posted("Strict", level(0, 3, "Reminder"), level(1, 10, "Final", channel="letter", fee="15.00"))
        response = client.post(NEW, data)
        policy = DunningPolicy.objects.get(name="Strict")
        assert response.status_code == 302 and response.url == detail(policy)
        levels = list(policy.levels.order_by("order").values_list("days_after_due", "name", "channel", "fee"))
        assert [row[:3] for row in levels] == [(3, "Reminder", "email"), (10, "Final", "letter")]
        assert str(levels[1][3]) == "15.00"

    def test_the_edit_form_shows_the_levels_and_saves_changes(self, signed_in):
        default = dunning.get_default_policy()
        client = signed_in("finance_manager")
        page = parse(client.get(detail(default)).text)
        assert page.by_id("default-policy-badge")
        assert page.by_id("id_levels-0-name").attrs["value"] == "Due soon"
        rows = [
            level(n, lvl.days_after_due, lvl.name, channel=lvl.channel, task_days=lvl.task_days or "")
            for n, lvl in enumerate(default.levels.order_by("order"))
        ]
        rows[1]["levels-1-name"] = "Kind reminder"
        response = client.post(detail(default), posted(default.name, *rows, initial=len(rows), is_default="on"))
        assert response.status_code == 302
        assert default.levels.get(order=2).name == "Kind reminder"

    def test_overlapping_levels_come_back_as_a_message_with_what_was_typed(self, signed_in):
        client = signed_in("finance_manager")
        response = client.post(NEW, posted("Twice", level(0, 7, "First"), level(1, 7, "Second")))
        assert response.status_code == 400
        errors = parse(response.text).by_id("level-errors").text
        assert "overlap" in errors
        assert parse(response.text).by_id("id_levels-1-name").attrs["value"] == "Second"
        assert not DunningPolicy.objects.filter(name="Twice").exists()

    def test_unordered_levels_are_refused(self, signed_in):
        response = signed_in("finance_manager").post(NEW, posted("Back", level(0, 14, "Late"), level(1, 3, "Early")))
        assert response.status_code == 400 and "in order of days after due" in response.text
        assert not DunningPolicy.objects.filter(name="Back").exists()

    def test_an_unknown_template_field_is_an_error_on_its_level(self, signed_in):
        data = posted("Typo", level(0, 3, "Reminder", subject_template="Hello {customer.nmae}"))
        response = signed_in("finance_manager").post(NEW, data)
        assert response.status_code == 400
        assert "Unknown field {customer.nmae}" in parse(response.text).by_id("level-0").text
        assert not DunningPolicy.objects.filter(name="Typo").exists()

    def test_add_a_level_keeps_what_was_typed_and_saves_nothing(self, signed_in):
        client = signed_in("finance_manager")
        response = client.post(NEW, posted("Draft", level(0, 3, "Reminder"), _action="add"))
        assert response.status_code == 200
        page = parse(response.text)
        assert page.by_id("id_levels-0-name").attrs["value"] == "Reminder"
        assert page.by_id("id_levels-1-name") and not page.find_all(id="level-errors")
        assert not DunningPolicy.objects.filter(name="Draft").exists()

    def test_a_blank_added_level_is_ignored_and_a_removed_one_deleted(self, signed_in, finance_manager):
        policy = dunning.save_policy(
            by=finance_manager,
            name="Two",
            levels=[{"name": "A", "days_after_due": 3}, {"name": "B", "days_after_due": 9}],
        )
        blank = {f"levels-2-{key}": "" for key in ("days_after_due", "name", "subject_template", "body_template")}
        blank["levels-2-channel"] = "email"
        data = posted("Two", level(0, 3, "A"), level(1, 9, "B", DELETE="on"), blank, initial=2)
        data["levels-TOTAL_FORMS"] = "3"
        response = signed_in("finance_manager").post(detail(policy), data)
        assert response.status_code == 302
        assert list(policy.levels.values_list("name", flat=True)) == ["A"]

    def test_a_sent_level_cannot_be_removed(self, signed_in, finance_manager, issue, customer):
        policy = dunning.save_policy(
            by=finance_manager,
            name="Sent",
            levels=[{"name": "A", "days_after_due": 3}, {"name": "B", "days_after_due": 9}],
        )
        sent = policy.levels.get(name="B")
        run = DunningRun.objects.create(as_of=date(2026, 4, 15), status=DunningRun.Status.DONE)
        notice = DunningNotice.objects.create(run=run, customer=customer, channel="email", level=sent, status="sent")
        DunningNoticeLine.objects.create(notice=notice, invoice=issue("100.00"), level=sent, balance="100.00")
        data = posted("Sent", level(0, 3, "A"), level(1, 9, "B", DELETE="on"), initial=2)
        response = signed_in("finance_manager").post(detail(policy), data)
        assert response.status_code == 400 and "was sent already" in response.text
        assert policy.levels.count() == 2

    def test_the_default_cannot_be_unmarked_without_another(self, signed_in):
        default = dunning.get_default_policy()
        rows = [level(0, -3, "Due soon")]
        response = signed_in("finance_manager").post(detail(default), posted(default.name, *rows, initial=5))
        assert response.status_code == 400 and "Make another policy the default first." in response.text

    @pytest.mark.parametrize(
        "junk",
        [
            {"levels-TOTAL_FORMS": "x"},
            {"levels-TOTAL_FORMS": "9" * 30},
            {"levels-0-days_after_due": "1e309"},
            {"levels-0-fee": "NaN"},
            {"name": ""},
        ],
    )
    def test_junk_is_a_form_error_never_a_500(self, signed_in, junk):
        data = {**posted("Junk", level(0, 3, "Reminder")), **junk}
        response = signed_in("finance_manager").post(NEW, data)
        assert response.status_code == 400
        assert not DunningPolicy.objects.filter(name="Junk").exists()


class TestTwoManagersAtOnce:
    """The policy carries a version (core.concurrency): a manager who saves a form opened
    before someone else's save is told, and nothing of theirs overwrites the other's levels."""

    def rows(self, policy, **renamed):
        return [
            level(
                n,
                lvl.days_after_due,
                renamed.get(lvl.name, lvl.name),
                channel=lvl.channel,
                task_days=lvl.task_days or "",
            )
            for n, lvl in enumerate(policy.levels.order_by("order"))
        ]

    def test_a_save_on_a_stale_form_is_refused_and_saving_again_overwrites(self, signed_in, finance_manager):
        default = dunning.get_default_policy()
        client = signed_in("finance_manager")
        opened = parse(client.get(detail(default)).text).by_id("id_version").attrs["value"]
        assert opened == str(default.version)
        # Another manager renames a level meanwhile.
        theirs = [{**lvl, "name": "Theirs"} if lvl["name"] == "Friendly reminder" else lvl for lvl in _levels(default)]
        dunning.save_policy(by=finance_manager, name=default.name, levels=theirs, policy=default, is_default=True)
        mine = self.rows(default, Theirs="Mine")
        data = posted(default.name, *mine, initial=len(mine), is_default="on", version=opened)
        response = client.post(detail(default), data)
        assert response.status_code == 409
        page = parse(response.text)
        assert "Someone else saved this policy" in page.find(class_="error-summary").text
        assert default.levels.filter(name="Theirs").exists() and not default.levels.filter(name="Mine").exists()
        # The form now carries the current version: saving again is deliberate, and goes through.
        again = {**data, "version": page.by_id("id_version").attrs["value"]}
        assert client.post(detail(default), again).status_code == 302
        assert default.levels.filter(name="Mine").exists()

    def test_each_save_bumps_the_version_and_a_new_default_bumps_the_old_one(self, finance_manager):
        default = dunning.get_default_policy()
        before = default.version
        other = dunning.save_policy(by=finance_manager, name="Other", levels=[{"name": "A", "days_after_due": 3}])
        assert other.version == 1
        other = dunning.save_policy(
            by=finance_manager,
            name="Other",
            levels=[{"name": "A", "days_after_due": 3}],
            policy=other,
            is_default=True,
            expected_version=1,
        )
        default.refresh_from_db()
        assert (other.version, default.version) == (2, before + 1)

    def test_the_service_refuses_a_stale_version_and_changes_nothing(self, finance_manager):
        from core.concurrency import StaleVersion

        policy = dunning.save_policy(by=finance_manager, name="Kept", levels=[{"name": "A", "days_after_due": 3}])
        with pytest.raises(StaleVersion):
            dunning.save_policy(
                by=finance_manager,
                name="Changed",
                levels=[{"name": "B", "days_after_due": 5}],
                policy=policy,
                expected_version=policy.version + 1,
            )
        policy.refresh_from_db()
        assert (policy.name, policy.version, list(policy.levels.values_list("name", flat=True))) == ("Kept", 1, ["A"])


def _levels(policy):
    return [
        {"name": lvl.name, "days_after_due": lvl.days_after_due, "channel": lvl.channel, "task_days": lvl.task_days}
        for lvl in policy.levels.order_by("order")
    ]

"""{% empty_state %}: the card an empty list shows (templates/includes/empty_state.html)."""

from django.template import Context, Template

PAGE = Template(
    '{% load concord %}{% empty_state icon="building" filtered=filtered filtered_title="No customers match these filters"'
    ' filtered_hint=hint clear_url="/customers/" %}<h2 class="h5">No customers yet</h2>{% if can_create %}<a>New</a>{% endif %}'
    "{% endempty_state %}"
)


def test_an_unfiltered_empty_list_shows_the_pages_own_words_under_its_icon():
    html = PAGE.render(Context({"filtered": False, "can_create": True}))
    assert 'class="card empty-state text-center py-5 px-3"' in html
    assert "#building" in html and "magnifying-glass" not in html
    assert '<h2 class="h5">No customers yet</h2><a>New</a>' in html
    assert "Clear filters" not in html


def test_a_filtered_empty_list_offers_to_clear_the_filters_instead():
    html = PAGE.render(Context({"filtered": True, "hint": "Check the spelling.", "can_create": True}))
    assert "#magnifying-glass" in html
    assert '<h2 class="h5">No customers match these filters</h2>' in html
    assert '<p class="text-body-secondary mb-3">Check the spelling.</p>' in html
    assert '<a class="btn btn-outline-secondary" href="/customers/">Clear filters</a>' in html
    assert "No customers yet" not in html


def test_without_an_icon_or_a_hint_neither_is_drawn():
    html = Template("{% load concord %}{% empty_state %}<h2>No runs</h2>{% endempty_state %}").render(Context())
    assert "empty-state-icon" not in html and "<p" not in html
    assert "<h2>No runs</h2>" in html

"""core/templatetags/cached_url.py: `{% url %}` (a template builtin) gives what Django's
tag gives, remembered, and never an answer from another URLconf or script prefix."""

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.urls import NoReverseMatch, set_script_prefix

from core.templatetags import cached_url

DJANGO = Engine(libraries={}, builtins=[])  # Django's own {% url %}


def both(source: str, context: dict) -> tuple[str, str]:
    ours = Template(source).render(Context(context))
    theirs = DJANGO.from_string(source).render(Context(context))
    return ours, theirs


@pytest.mark.parametrize(
    "source",
    [
        "{% url 'crm:customer_list' %}",
        "{% url 'crm:customer_detail' 12 %}",
        "{% url 'crm:customer_detail' pk %}",
        "{% url 'crm:customer_detail' pk=pk %}",
        "{% url 'crm:customer_detail' text_pk %}",
        "{% url 'crm:customer_list' as link %}[{{ link }}]",
        "{% url 'crm:customer_list' %}?q={{ q }}",
    ],
)
def test_the_same_as_djangos_tag_twice(source):
    context = {"pk": 7, "text_pk": "8", "q": "<b>"}
    first, expected = both(source, context)
    assert first == expected
    assert Template(source).render(Context(context)) == expected  # remembered: the same again


def test_the_builtin_is_ours():
    node = Template("{% url 'crm:customer_list' %}").nodelist[0]
    assert isinstance(node, cached_url.CachedURLNode)


def test_a_name_that_does_not_reverse_is_an_error_and_is_not_kept():
    before = len(cached_url._remembered)
    with pytest.raises(NoReverseMatch):
        Template("{% url 'crm:no_such_page' %}").render(Context({}))
    with pytest.raises(NoReverseMatch):
        Template("{% url 'crm:customer_detail' 'not a number' %}").render(Context({}))
    assert len(cached_url._remembered) == before
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")


@pytest.mark.django_db
def test_a_model_instance_goes_to_djangos_tag(customer):
    # Not a plain value: not remembered (an instance's pk may change; it renders as Django's does).
    before = len(cached_url._remembered)
    with pytest.raises(NoReverseMatch):
        Template("{% url 'crm:customer_detail' customer %}").render(Context({"customer": customer}))
    assert len(cached_url._remembered) == before


@pytest.mark.django_db
def test_another_script_prefix_or_urlconf_is_another_answer(settings):
    source = "{% url 'crm:customer_list' %}"
    plain = Template(source).render(Context({}))
    set_script_prefix("/concord/")
    try:
        assert Template(source).render(Context({})) == "/concord" + plain
    finally:
        set_script_prefix("/")
    settings.ROOT_URLCONF = "tests.core.urls_elsewhere"
    assert Template(source).render(Context({})) == "/elsewhere" + plain
    assert Template(source).render(Context({})) != plain


def test_it_forgets_the_oldest_beyond_its_bound(monkeypatch):
    monkeypatch.setattr(cached_url, "REMEMBER_AT_MOST", 3)
    monkeypatch.setattr(cached_url, "_remembered", type(cached_url._remembered)())
    for pk in range(10):
        Template("{% url 'crm:customer_detail' pk %}").render(Context({"pk": pk}))
    assert len(cached_url._remembered) == 3

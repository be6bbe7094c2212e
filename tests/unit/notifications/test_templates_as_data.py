"""Templates are data: the monolith's words, previewable without a user or an event."""

from __future__ import annotations

import pytest
from legacy_monolith.notifications.templates import render as monolith_render
from notifications_service.domain.templates import SERVICE_ONLY, TEMPLATES
from notifications_service.service_layer.choreography import render
from notifications_service.service_layer.notifications import Notifications

from tests.unit.notifications.fakes import FakeStore, FixedClock


@pytest.mark.parametrize("name", sorted(set(TEMPLATES) - SERVICE_ONLY))
def test_every_template_reads_exactly_as_the_monolith_s_mail(name: str) -> None:
    samples = dict(TEMPLATES[name].samples)

    category, subject, body = monolith_render(name, **samples)
    ours = render(name, samples)

    assert (ours.template.category.value, ours.subject, ours.body) == (category, subject, body)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_previews_with_its_own_sample_values(name: str) -> None:
    template = TEMPLATES[name]

    preview = Notifications(FakeStore().stores(), FixedClock()).preview(name)

    assert set(template.placeholders) <= set(template.samples)
    assert "{" not in preview.subject + preview.body
    assert preview.body.startswith(f"Hello {template.samples['name']},")


def test_a_subject_is_one_line_whatever_a_name_holds() -> None:
    rendered = render("welcome", {"name": "Eve\r\nBcc: all@example.com", "email": "e@x.test"})

    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


def test_the_placeholders_are_listed_in_order_of_first_use() -> None:
    assert TEMPLATES["payment_failed"].placeholders == ["invoice_id", "name", "amount", "reason"]

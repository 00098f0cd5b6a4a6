"""The review-kind registry's contract, checked for every registered kind (a new
kind, e.g. duty reports, is checked here without a line of its own)."""

from __future__ import annotations

import pytest

from community.accounts.permissions import _RULES
from community.core.reviews import ReviewKind, register_review_kind, review_kinds


def test_every_kind_keeps_the_contract(world):
    kinds = review_kinds()
    assert {k.name for k in kinds} >= {
        "residence",
        "assessment",
        "hazard",
        "inspection",
        "association",
        "yellow_card",
    }
    for kind in kinds:
        columns = set(kind.pending(world.police).selected_columns.keys())
        assert {"id", "title", "since", "area_id"} <= columns, kind.name
        assert kind.view_action in _RULES and kind.decide_action in _RULES, kind.name
        assert kind.decidable or kind.action_label, f"{kind.name}: no decision and no link"


def test_kind_names_are_url_segments_and_unique():
    with pytest.raises(ValueError):
        register_review_kind(ReviewKind("Bad-Name", "x", *[None] * 6))  # type: ignore[arg-type]
    existing = review_kinds()[0]
    with pytest.raises(KeyError):
        register_review_kind(ReviewKind(existing.name, "other", *[None] * 6))  # type: ignore[arg-type]

"""Demo sites, buildings and rooms for seed-demo."""

from __future__ import annotations


def seed(session, context) -> None:
    """Adds context["sites"]: {name: Site}. (Filled in with the places work.)"""
    context.setdefault("sites", {})

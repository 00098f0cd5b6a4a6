"""Demo inspections, incidents, hazards and assessments for seed-demo."""

from __future__ import annotations

import importlib

# Order matters: assessments are computed from admissions, incidents and hazards.
DEMO_MODULES = ("admission", "incidents", "hazards", "assessments")


def seed(session, context) -> None:
    """Runs demo(session, context) of each ratings.services module in DEMO_MODULES."""
    for name in DEMO_MODULES:
        try:
            module = importlib.import_module(f"community.ratings.services.{name}")
        except ModuleNotFoundError:
            continue
        demo = getattr(module, "demo", None)
        if demo is not None:
            demo(session, context)

"""Access rows for the audit log: the police and administrators only (what each of
them reads is scoped: tests/audit/test_scope.py)."""

from __future__ import annotations

from tests.access_rules import ANON, LOGIN

EXPECTED = {
    "audit.index": ("GET", {ANON: LOGIN, "admin": 200, "police": 200, "*": 403}),
    "audit.export": ("GET", {ANON: LOGIN, "admin": 200, "police": 200, "*": 403}),
}

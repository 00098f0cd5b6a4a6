"""`flask create-user` without --password asks for it, hidden and twice, and keeps
the password rule; with --password it asks nothing."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash

from community.accounts.models import User


def _create(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["create-user", *args, "--role", "admin"], input=input)


def _user(session, username):
    return session.scalar(select(User).where(User.username == username))


def test_without_password_it_prompts_hidden_with_confirmation(app, session):
    result = _create(app, "prompted", input="long-enough-pw\nlong-enough-pw\n")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    # Hidden: the typed password is not echoed.
    assert "long-enough-pw" not in result.output
    assert check_password_hash(_user(session, "prompted").password_hash, "long-enough-pw")


def test_a_short_prompted_password_is_asked_for_again(app, session):
    answers = "short\nlong-enough-pw\nlong-enough-pw\n"
    result = _create(app, "retried", input=answers)
    assert result.exit_code == 0, result.output
    assert "10" in result.output  # the rule's message, then the question again
    assert result.output.count("Password:") == 2
    assert check_password_hash(_user(session, "retried").password_hash, "long-enough-pw")


def test_a_mismatched_confirmation_is_asked_for_again(app, session):
    answers = "long-enough-pw\nother-password\nlong-enough-pw\nlong-enough-pw\n"
    result = _create(app, "confirmed", input=answers)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert check_password_hash(_user(session, "confirmed").password_hash, "long-enough-pw")


def test_no_answer_creates_nobody(app, session):
    result = _create(app, "silent", input="")
    assert result.exit_code != 0
    assert _user(session, "silent") is None


def test_with_password_it_asks_nothing_and_still_checks_the_rule(app, session):
    result = _create(app, "given", "--password", "long-enough-pw")
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output
    refused = _create(app, "tooshort", "--password", "short")
    assert refused.exit_code != 0 and "10" in refused.output
    assert "Traceback" not in refused.output
    assert _user(session, "tooshort") is None

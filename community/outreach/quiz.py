"""What an attendee takes away after signing in: the season's common scams and the
96110 hotline (anti-fraud), a short message for other kinds, and the five-question
quiz. The right answers are here and nowhere else (services.answer_quiz scores)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

HOTLINE = "96110"
QUESTIONS = 5


@dataclass(frozen=True)
class Question:
    text: Any
    options: tuple[tuple[str, Any], ...]
    right: str


ANTI_FRAUD = (
    Question(
        _l(
            "Someone calling as “police” asks you to move money to a “safe account”. What do you do?"  # noqa: E501
        ),
        (("a", _l("Transfer it quickly")), ("b", _l("Hang up and call 110 or 96110"))),
        "b",
    ),
    Question(
        _l("A stranger online offers high pay for liking posts, after a small deposit. This is:"),
        (("a", _l("A scam")), ("b", _l("A side job worth trying"))),
        "a",
    ),
    Question(
        _l("May you give anyone the verification code sent to your phone?"),
        (("a", _l("Yes, to customer service")), ("b", _l("Never, to anyone"))),
        "b",
    ),
    Question(
        _l("Which number is the national anti-fraud hotline?"),
        (("a", _l("96110")), ("b", _l("12345"))),
        "a",
    ),
    Question(
        _l("Should you install the National Anti-Fraud Center app?"),
        (("a", _l("Yes: it warns of fraud calls")), ("b", _l("No need"))),
        "a",
    ),
)
GENERAL = (
    Question(
        _l("Where may an e-bike be charged?"),
        (("a", _l("In the corridor or the room")), ("b", _l("At the central charging point"))),
        "b",
    ),
    Question(
        _l("A fire breaks out in the building. What do you do first?"),
        (("a", _l("Leave by the stairs and call 119")), ("b", _l("Take the lift"))),
        "a",
    ),
    Question(
        _l("Someone offers you unknown pills “to relax”. You:"),
        (("a", _l("Refuse and tell the police")), ("b", _l("Try one"))),
        "a",
    ),
    Question(
        _l("A dispute with your landlord is best settled by:"),
        (("a", _l("Mediation or the law")), ("b", _l("Threats"))),
        "a",
    ),
    Question(
        _l("Must a tenant declare residence within three days of moving in?"),
        (("a", _l("Yes")), ("b", _l("No"))),
        "a",
    ),
)


def questions(kind: str) -> tuple[Question, ...]:
    return ANTI_FRAUD if kind == "anti_fraud" else GENERAL


def score(kind: str, answers: list[str | None]) -> int:
    """Right answers among the five (missing ones count as wrong)."""
    return sum(1 for q, a in zip(questions(kind), answers, strict=False) if a == q.right)


# The season's common scams (by local month), shown after an anti-fraud sign-in.
_SEASONS = (
    (
        (12, 1, 2),
        (
            _l("Year-end “refund” calls posing as online shops or couriers"),
            _l("Fake train-ticket and flight-change messages before the Spring Festival"),
            _l("Wage-arrears “lawyers” asking for a fee first"),
        ),
    ),
    (
        (3, 4, 5),
        (
            _l("Part-time “order brushing” jobs asking for deposits"),
            _l("Loans “without checks” that charge fees before paying out"),
            _l("Fake credit-repair services"),
        ),
    ),
    (
        (6, 7, 8),
        (
            _l("Fake graduation and job-placement offers"),
            _l("Game-item and account trading scams among teenagers"),
            _l("Impostors of relatives asking for urgent money by video call"),
        ),
    ),
    (
        (9, 10, 11),
        (
            _l("Shopping-festival “customer service” refund scams"),
            _l("Investment groups promising sure profits"),
            _l("Fake police or prosecutors with “arrest warrants”"),
        ),
    ),
)
TAKEAWAYS = {
    "legal": _l(
        "Know your rights as a tenant and a worker: sign written contracts, keep receipts, and ask the community's legal adviser for free."  # noqa: E501
    ),
    "anti_drug": _l(
        "Drugs ruin health and families. Refuse any unknown substance; report drug activity to 110."
    ),
    "anti_gang": _l(
        "Report gang crime, forced buying and selling, and violent debt collection: 110, or the anti-gang reporting line 12389."  # noqa: E501
    ),
    "fire_safety": _l(
        "Charge e-bikes only at the central charging point, keep escape routes clear, and check your smoke alarm monthly. Fire: 119."  # noqa: E501
    ),
    "corner_visit": _l(
        "Thank you for visiting the experience corner. Share what you learned with your family and colleagues."  # noqa: E501
    ),
    "safety_education": _l(
        "Keep doors locked, know your building's exits, and call 110 in danger."
    ),
}


def season_scams(on: date) -> tuple[Any, ...]:
    for months, scams in _SEASONS:
        if on.month in months:
            return scams
    return ()

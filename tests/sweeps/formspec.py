"""The forms of a page as data, and Hypothesis strategies of hostile values for them
(the fuzz sweep, tests/sweeps/test_fuzz.py, and the stored-payload sweep,
tests/sweeps/test_stored_xss.py).

A form is read from the HTML the app renders (its action, method and every
input, select, textarea and named button, with the values the page offers), so a
field added to a template is fuzzed without a change here; a POST route no page
shows is read from the WTForms class its view binds (`wtforms_fields`).
"""

from __future__ import annotations

import inspect
import io
import itertools
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from community.core.timeutil import now_local, today
from tests.factories.residents import id_number

# What a request may answer, whatever it carries (issue 17 item 12, DESIGN.md
# "Status codes"); anything else -- a 500 above all -- is a finding.
ALLOWED = frozenset({200, 303, 400, 403, 404, 409, 413, 422, 429})

# Hypothesis profiles: the default is derandomized (the same examples on every run,
# so CI is reproducible) and small enough for `make test` on two cores; SWEEP_DEEP=1
# (`make test-deep`) draws many more, at random. Neither writes an example database.
settings.register_profile(
    "sweep",
    max_examples=int(os.environ.get("SWEEP_EXAMPLES", "8")),
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "sweep-deep",
    max_examples=int(os.environ.get("SWEEP_EXAMPLES", "100")),
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
DEEP = bool(os.environ.get("SWEEP_DEEP"))
PROFILE = settings.get_profile("sweep-deep" if DEEP else "sweep")


# --- forms as data -------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, password, int, float, date, datetime, month, select,
    # multi, bool, radio, button, file, hidden
    values: list[str] = field(default_factory=list)  # what the page offers, default first
    maxlength: int | None = None


@dataclass
class Form:
    action: str  # path?query
    method: str  # "post" or "get"
    fields: dict[str, Field] = field(default_factory=dict)
    page: str = ""  # the page it was found on

    def add(
        self,
        name: str,
        kind: str,
        value: str | None,
        maxlength: int | None = None,
        first: bool = False,
    ):
        """Add a field or one more value of it (`first`: the value the page chose)."""
        if not name:
            return
        known = self.fields.get(name)
        if known is None:
            known = self.fields[name] = Field(name, kind, maxlength=maxlength)
        if value is not None and value in known.values and first:
            known.values.remove(value)
        if value is not None and value not in known.values:
            known.values.insert(0, value) if first else known.values.append(value)


_INPUT_KINDS = {
    "number": "int",
    "date": "date",
    "datetime-local": "datetime",
    "month": "month",
    "checkbox": "bool",
    "radio": "radio",
    "file": "file",
    "hidden": "hidden",
    "password": "password",
    "submit": "button",
}


class _Forms(HTMLParser):
    """Every <form> of a page with its fields (inputs, selects, textareas, named
    buttons), a control outside its form by `form="id"` included."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._by_id: dict[str, Form] = {}
        self._owned: list[tuple[str, tuple]] = []  # (form id, add() arguments)
        self._form: Form | None = None
        self._select: tuple[str, bool, str | None] | None = None  # name, multiple, form id
        self._options: list[tuple[str, bool]] = []
        self._textarea: tuple[str, int | None, str | None] | None = None
        self._text: list[str] = []

    def _add(self, owner: str | None, *args) -> None:
        if owner:
            self._owned.append((owner, args))
        elif self._form is not None:
            self._form.add(*args)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page
            parts = urlsplit(urljoin(f"http://localhost{self.page}", action))
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            self._form = Form(path, (a.get("method") or "get").lower(), page=self.page)
            self.forms.append(self._form)
            if a.get("id"):
                self._by_id[a["id"]] = self._form
            return
        owner = a.get("form") or None
        if self._form is None and owner is None:
            return
        name = a.get("name", "")
        maxlength = int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None
        if tag == "input":
            kind = _INPUT_KINDS.get(a.get("type", "text").lower(), "text")
            if kind == "int" and a.get("step", "") not in ("", "1"):
                kind = "float"
            if kind in ("bool", "radio"):
                # The value the page has chosen goes first (Form.add keeps the order).
                self._add(owner, name, kind, a.get("value", "y"), None, "checked" in a)
            elif kind == "button":
                self._add(owner, name, kind, a.get("value", ""))
            else:
                self._add(owner, name, kind, a.get("value"), maxlength)
        elif tag == "button" and name:
            self._add(owner, name, "button", a.get("value", ""))
        elif tag == "select":
            self._select = (name, "multiple" in a, owner)
            self._options = []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = (name, maxlength, owner)
            self._text = []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, multiple, owner = self._select
            kind = "multi" if multiple else "select"
            # As a browser sends it: the selected option, else the first one.
            ordered = [v for v, chosen in self._options if chosen]
            ordered += [v for v, chosen in self._options if not chosen]
            if not ordered:
                self._add(owner, name, kind, None)
            for value in ordered:
                self._add(owner, name, kind, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, maxlength, owner = self._textarea
            text = "".join(self._text).strip("\n")
            self._add(owner, name, "textarea", text or None, maxlength)
            self._textarea = None

    def close(self):
        super().close()
        for owner, args in self._owned:
            if owner in self._by_id:
                self._by_id[owner].add(*args)


def forms_in(page: str, html: str) -> list[Form]:
    parser = _Forms(page)
    parser.feed(html)
    parser.close()
    return parser.forms


def route_of(app, form: Form) -> str | None:
    """The endpoint a form submits to (None: not one of the app's routes)."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(form.action).path, method=form.method.upper())
    except HTTPException:
        return None
    return endpoint


_WTF_KINDS = {
    "StringField": "text",
    "TextAreaField": "textarea",
    "PasswordField": "password",
    "IntegerField": "int",
    "FloatField": "float",
    "DecimalField": "float",
    "DateField": "date",
    "WrittenDateField": "date",
    "DateTimeLocalField": "datetime",
    "DateTimeField": "datetime",
    "MonthField": "month",
    "SelectField": "select",
    "RadioField": "radio",
    "SelectMultipleField": "multi",
    "BooleanField": "bool",
    "FileField": "file",
    "MultipleFileField": "file",
    "HiddenField": "hidden",
}
_BOUND_FORM = re.compile(r"\b([A-Z]\w*Form)\((?!\s*formdata=None)")


def wtforms_fields(view) -> dict[str, Field]:
    """The fields of the WTForms classes `view` binds to the request (its source names
    `SomethingForm(...)` without `formdata=None`), by the field classes' kinds."""
    from wtforms import Form as WTForm

    fields: dict[str, Field] = {}
    func = inspect.unwrap(view)
    for name in _BOUND_FORM.findall(inspect.getsource(func)):
        cls = func.__globals__.get(name)
        if not (isinstance(cls, type) and issubclass(cls, WTForm)):
            continue
        for attr in dir(cls):
            unbound = getattr(cls, attr, None)
            field_class = getattr(unbound, "field_class", None)
            if field_class is None:
                continue
            kind = next(
                (_WTF_KINDS[k.__name__] for k in field_class.__mro__ if k.__name__ in _WTF_KINDS),
                "text",
            )
            fields.setdefault(attr, Field(attr, kind))
    return fields


# --- hostile values ------------------------------------------------------------------

LONG = 10_000
# Fixed payloads every field meets: markup and template syntax, SQL, bidi and
# zero-width marks, control characters (NUL above all), extreme and malformed dates
# and numbers, formula starters, and 10,000-character strings.
PAYLOADS = [
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "{{7*7}}",
    "{% raw %}",
    "{{ config.items() }}",
    "${7*7}",
    "' OR '1'='1",
    "1; DROP TABLE site; --",
    "%_\\",
    "\u202egnp.exe",
    "\u200f\u200e",
    "\u200b\ufeff",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\x7f\x85",
    "\r\n\r\n",
    "\u2028",
    "0000-00-00",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "0001-01-01",
    "10000-01-01",
    "2026-12-31T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2026年2月30日",
    "20260230",
    "-1",
    "0",
    "1e9",
    "1e309",
    "NaN",
    "-inf",
    "99999999999999999999",
    "-99999999999999999999",
    "２",
    "0x10",
    "",
    " ",
    "\u3000",
    '=HYPERLINK("http://x","y")',
    "@SUM(A1)",
    "../../etc/passwd",
    "javascript:alert(1)",
    "👨\u200d👩\u200d👧\u200d👦",
    "𠀀𪚥",
    "字" * LONG,
    "😀" * LONG,
    "a" * (LONG + 1),
    "<script>" * (LONG // 8),
]
_ALPHABET = st.sampled_from(
    list("中文共治房东住户楼号路街道社区")
    + ["😀", "🏠", "\u200d", "\u202e", "\u200f", "\u0301", "\x00", "\x01", "\x1f", "\x9f"]
    + list("<>\"'&{}%#;=+-@/\\ \t\n")
    + list("aZ09")
)
TEXT = st.text(_ALPHABET, max_size=40)
NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
DATE = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.tuples(st.integers(-1, 10_000), st.integers(-1, 13), st.integers(-1, 32)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
    ),
)
DATETIME = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))
MONTH = st.tuples(st.integers(-1, 10_000), st.integers(-1, 13)).map(
    lambda t: f"{t[0]:04d}-{t[1]:02d}"
)
_BY_KIND = {
    "int": NUMBER,
    "float": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
    "month": MONTH,
}
FIELD_NAME = st.one_of(
    st.sampled_from(["x", "id", "user_id", "status", "__class__", "csrf_token[]", "名字"]), TEXT
)


def hostile(kind: str):
    """Values for a field of `kind`: the shared payloads, random text, and values of
    the field's own type at and past its limits."""
    return st.one_of(st.sampled_from(PAYLOADS), TEXT, _BY_KIND.get(kind, NUMBER))


@dataclass
class Upload:
    data: bytes
    filename: str


UPLOAD = st.builds(
    Upload,
    st.one_of(
        st.just(b""),
        st.binary(max_size=64),
        st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        st.just(b"GIF89a" + b"\xff" * 16),
        st.just(b"PK\x03\x04" + b"\x00" * 26),
    ),
    st.one_of(st.sampled_from(["a.jpg", "x.png", "../../a.csv", "字.xlsx", "\u202egpj.exe", ""])),
)


_serials = itertools.count(101)
# Values a user would type where the page offers none, by field name (a new person's
# ID number each time: a second live report of one person is refused).
_NAMED = {
    "id_number": lambda: id_number(date(1991, 3, 4), serial=next(_serials) % 1000),
    "phone": lambda: "13800138000",
    "username": lambda: "fuzz-user",
    "landlord_username": lambda: "",
    "q": lambda: "",
    "month": lambda: f"{today():%Y-%m}",
    "move_in": lambda: (today() - timedelta(days=1)).isoformat(),
    "move_out": lambda: today().isoformat(),
    "occurred_on": lambda: today().isoformat(),
    "starts_at": lambda: (now_local() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
    "ends_at": lambda: (now_local() + timedelta(days=3, hours=2)).strftime("%Y-%m-%dT%H:%M"),
    "capacity": lambda: "5",
    "points": lambda: "10",
    "repeat_weeks": lambda: "0",
    "beds": lambda: "4",
    "occupants": lambda: "1",
    "consent": lambda: "y",
}
# Required choices whose first option is a placeholder ("Choose ...").
_CHOOSE = {"area_id", "room_id", "assignee"}
_BY_KIND_PLAIN = {
    "text": "普通文本",
    "textarea": "普通文本",
    "int": "1",
    "float": "1.5",
    "bool": "y",
    "password": "correct-horse-battery",
}


def plain_value(f: Field) -> str | None:
    """What a well-meaning user would send: the page's value, else a plain one by the
    field's name or kind (None: nothing, as for a file)."""
    if f.name in _CHOOSE and f.values and f.values[0] in ("", "0"):
        real = [v for v in f.values if v not in ("", "0")]
        if real:
            return real[0]
    if f.values and f.values[0] != "":
        return f.values[0]
    if f.name in _NAMED:
        return _NAMED[f.name]()
    if f.kind == "file":
        return None
    if f.kind in _BY_KIND_PLAIN:
        return _BY_KIND_PLAIN[f.kind]
    return f.values[0] if f.values else ""


@dataclass
class Submission:
    pairs: list[tuple[str, str | Upload]]
    htmx: bool

    def multidict(self) -> MultiDict:
        return MultiDict(
            [
                (k, (io.BytesIO(v.data), v.filename) if isinstance(v, Upload) else v)
                for k, v in self.pairs
            ]
        )

    def __repr__(self) -> str:
        shown = [
            (k, f"<upload {v.filename!r} {len(v.data)} bytes>" if isinstance(v, Upload) else v)
            for k, v in self.pairs
        ]
        listed = ", ".join(f"{k[:40]!r}={_short(v)}" for k, v in shown)
        return f"Submission(htmx={self.htmx}, {listed})"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}...({len(value)} chars)"


# The edges every form meets once, whatever Hypothesis draws: each kind of field at its
# lowest, at its highest, or long, the others as a user would fill them.
_EDGES = {
    "low": {
        "date": "0001-01-01",
        "datetime": "0001-01-01T00:00",
        "month": "0001-01",
        "int": "-99999999999999999999",
        "float": "-1e309",
    },
    "high": {
        "date": "9999-12-31",
        "datetime": "9999-12-31T23:59",
        "month": "9999-12",
        "int": "99999999999999999999",
        "float": "1e309",
    },
    "long": {"text": "字" * LONG, "textarea": "😀" * LONG, "hidden": "a" * LONG},
}


def edges(fields: dict[str, Field], csrf: str | None) -> list[Submission]:
    """One submission per edge of _EDGES that touches a field of the form, and one
    multipart body with a nameless part."""
    out = []
    for edge in _EDGES.values():
        if not any(f.kind in edge for n, f in fields.items() if n != "csrf_token"):
            continue
        pairs: list[tuple[str, str | Upload]] = [("csrf_token", csrf)] if csrf else []
        for name, f in sorted(fields.items()):
            value = edge.get(f.kind) if name != "csrf_token" else None
            value = value if value is not None else plain_value(f)
            if name != "csrf_token" and value is not None:
                pairs.append((name, value))
        out.append(Submission(pairs, False))
    # A multipart body with a part the server reads without a name (the test client
    # writes a name holding a line break as it is: werkzeug then keeps the part under
    # None), as a script may send.
    plain = [(n, plain_value(f)) for n, f in sorted(fields.items()) if n != "csrf_token"]
    pairs = [("csrf_token", csrf)] if csrf else []
    pairs += [(n, v) for n, v in plain if v is not None]
    out.append(Submission([*pairs, ("a\nb", "v"), ("file", Upload(b"x", "a.txt"))], False))
    return out


@st.composite
def submissions(draw, fields: dict[str, Field], csrf: str | None):
    """A submission of a form: most fields as the page offers them, a few hostile, some
    missing, repeated or unknown ones added, the CSRF token mostly right."""
    names = sorted(n for n in fields if n != "csrf_token")
    chosen = st.sampled_from(names) if names else st.nothing()
    mutate = draw(st.sets(chosen, max_size=3)) if names else set()
    missing = draw(st.sets(chosen, max_size=2)) if names else set()
    pairs: list[tuple[str, str | Upload]] = []
    for name in names:
        f = fields[name]
        if name in missing:
            continue
        if f.kind == "file":
            value = draw(st.one_of(st.none(), UPLOAD)) if name in mutate else None
        elif name in mutate:
            pool = [st.sampled_from(f.values)] if len(f.values) > 1 else []
            value = draw(st.one_of(*pool, hostile(f.kind)))
        else:
            value = plain_value(f)
        if value is None:
            continue
        pairs.append((name, value))
        if f.kind == "multi" and name not in mutate and len(f.values) > 1:
            pairs.append((name, f.values[1]))
    repeated = draw(st.lists(st.tuples(chosen, hostile("text")), max_size=2)) if names else []
    pairs += repeated
    pairs += draw(st.lists(st.tuples(FIELD_NAME, hostile("text")), max_size=2))
    if csrf is not None:
        token = draw(st.sampled_from(["right"] * 6 + ["missing", "wrong", "twice"]))
        if token != "missing":
            pairs.insert(0, ("csrf_token", csrf if token != "wrong" else csrf[::-1]))
        if token == "twice":
            pairs.append(("csrf_token", draw(TEXT)))
    return Submission(pairs, draw(st.booleans()))


__all__ = [
    "ALLOWED",
    "DEEP",
    "PAYLOADS",
    "PROFILE",
    "Field",
    "Form",
    "Submission",
    "Upload",
    "edges",
    "forms_in",
    "plain_value",
    "route_of",
    "submissions",
    "wtforms_fields",
]

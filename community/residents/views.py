"""Resident pages: the list with verification in place, the report form with its
cascading room choice, a residence (reveal, decide, move out), and the tenant's
public self-declaration and status page."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403, can, visible_or_404
from community.core import events
from community.core.errors import RuleViolation
from community.core.forms import EmptyForm, choices
from community.core.htmx import answered, render, submit
from community.core.once import once
from community.core.pagination import PER_PAGE, Page, parse_page
from community.extensions import db, limiter
from community.places import queries as places
from community.places.permissions import run_sites
from community.residents import bp, exports, queries, services, start
from community.residents.forms import (
    LABELS,
    STATUS_FILTERS,
    DeclarationForm,
    MoveOutForm,
    PickForm,
    RejectForm,
    ResidenceForm,
    ResidentFilterForm,
    ResubmitForm,
)
from community.residents.models import Residence
from community.residents.permissions import channel_for, opens_on_pending


@bp.after_request
def _no_store(resp):
    """Every resident page carries personal data (or a form for it), the public
    ones included: never cached."""
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _residence_or_404(residence_id: int) -> Residence:
    return visible_or_404(queries.get_residence(db.session, residence_id), "residence.view")


# --- the list ------------------------------------------------------------------------


def _row_labels() -> dict[str, str]:
    """The row's column labels, translated once per page instead of once per row."""
    return {
        "select": _("Select"),
        "id_number": _("ID number"),
        "status": _("Status"),
        "room": _("Room"),
        "moved_in": _("Moved in"),
        "reported": _("Reported"),
        "verify": _("Verify"),
        "send_back": _("Send back"),
        "reason_help": _("Say what to correct; do not repeat personal data."),
    }


def _list_page(status: int = 200, conflict=None):
    form = ResidentFilterForm(request.args)
    default = "pending" if opens_on_pending(current_user) else "all"
    chosen = form.status.data if request.args.get("status") in STATUS_FILTERS else default
    form.status.data = chosen
    filters = queries.ResidentFilters(
        status="" if chosen == "all" else chosen,
        q=(form.q.data or "")[:60],
        oldest_first=chosen == "pending",
    )
    result = queries.list_residences(
        db.session, current_user, filters, page=parse_page(request.args.get("page"))
    )
    decidable = {
        r.id
        for r in result.items
        if r.status == "pending" and can(current_user, "residence.decide", r)
    }
    return render(
        "residents/index.html",
        "residence_list",
        form=form,
        result=result,
        decidable=decidable,
        bulk_form=EmptyForm(formdata=None),
        reject_form=RejectForm(formdata=None),
        conflict=conflict,
        row_labels=_row_labels(),
        can_report=can(current_user, "residence.report_any"),
        can_import=can(current_user, "residence.import_any"),
        status=status,
        **LABELS,
    )


@bp.route("/residents/")
@login_required
def index():
    authorize_or_403("residence.list")
    return _list_page()


def _row(residence: Residence, *, status: int = 200, trigger=None, conflict=None, reject_form=None):
    """One list row (its own page without htmx), with the decisions the user may take."""
    decidable = set()
    if residence.status == "pending" and can(current_user, "residence.decide", residence):
        decidable = {residence.id}
    return render(
        "residents/row.html",
        "residence_row",
        residence=residence,
        decidable=decidable,
        reject_form=reject_form or RejectForm(formdata=None),
        conflict=conflict,
        row_labels=_row_labels(),
        status=status,
        trigger=trigger,
        **LABELS,
    )


def _back(residence: Residence) -> str:
    """Where a plain form lands after a decision: the residence page when it was sent
    from there, else the list (the next pending registration is on top)."""
    if request.form.get("next") == "show":
        return url_for("residents.show", residence_id=residence.id)
    return url_for("residents.index")


@bp.route("/residents/<int:residence_id>/verify", methods=["POST"])
@login_required
def verify(residence_id: int):
    residence = _residence_or_404(residence_id)
    authorize_or_403("residence.decide", residence)
    return submit(
        EmptyForm(),
        lambda: services.verify_residence(db.session, current_user, residence),
        page=lambda status, conflict=None: _row(residence, status=status, conflict=conflict),
        message=_("Registration verified."),
        location=_back(residence),
        fragment=lambda _r: _row(residence, trigger=events.RESIDENCE_VERIFIED),
    )


@bp.route("/residents/<int:residence_id>/reject", methods=["POST"])
@login_required
def reject(residence_id: int):
    residence = _residence_or_404(residence_id)
    authorize_or_403("residence.decide", residence)
    form = RejectForm()
    return submit(
        form,
        lambda: services.reject_residence(db.session, current_user, residence, form.reason.data),
        page=lambda status, conflict=None: _row(
            residence, status=status, conflict=conflict, reject_form=form
        ),
        message=_("Registration sent back."),
        location=_back(residence),
        fragment=lambda _r: _row(residence, trigger=events.RESIDENCE_REJECTED),
    )


@bp.route("/residents/verify", methods=["POST"])
@login_required
def verify_many():
    authorize_or_403("residence.verify_many")
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    chosen = [
        r
        for r in queries.get_residences(db.session, ids)
        if can(current_user, "residence.decide", r)
    ]

    def step():
        if not chosen:
            raise RuleViolation(None, _("Select the registrations to verify."))
        return services.verify_many(db.session, current_user, chosen)

    return submit(
        EmptyForm(),
        step,
        page=_list_page,
        message=lambda counts: _(
            "%(done)d verified, %(skipped)d already decided.", done=counts[0], skipped=counts[1]
        ),
        location=url_for("residents.index"),
        trigger=events.RESIDENCE_VERIFIED,
    )


# --- one residence -----------------------------------------------------------------------


def _card(
    residence: Residence, *, status: int = 200, trigger=None, conflict=None, revealed=None, **forms
):
    user = current_user
    active = residence.is_active
    actions = {
        "decide": residence.status == "pending" and can(user, "residence.decide", residence),
        "reveal": can(user, "residence.reveal", residence),
        "move_out": active and can(user, "residence.move_out", residence),
        "resubmit": residence.status == "rejected" and can(user, "residence.resubmit", residence),
    }
    return render(
        "residents/show.html",
        "residence_card",
        residence=residence,
        actions=actions,
        revealed=revealed,
        decide_form=EmptyForm(formdata=None),
        reject_form=forms.get("reject_form") or RejectForm(formdata=None),
        move_out_form=forms.get("move_out_form") or MoveOutForm(formdata=None),
        reveal_form=EmptyForm(formdata=None),
        resubmit_form=forms.get("resubmit_form") or _resubmit_form(residence),
        conflict=conflict,
        status=status,
        trigger=trigger,
        **LABELS,
    )


@bp.route("/residents/<int:residence_id>")
@login_required
def show(residence_id: int):
    return _card(_residence_or_404(residence_id))


def _resubmit_form(residence: Residence) -> ResubmitForm | None:
    """The rejected report's fields to correct, as stored; the ID number and phone
    are not echoed (the page shows them masked; left empty, they are kept)."""
    if residence.status != "rejected":
        return None
    person = residence.person
    return ResubmitForm(
        formdata=None,
        name=residence.name,
        move_in=residence.move_in,
        hometown=residence.hometown,
        employer=residence.employer,
        document_type=person.document_type,
        nationality=person.nationality or "",
        latin_name=residence.latin_name,
        gender=person.gender,
        birth_date=person.birth_date,
    )


@bp.route("/residents/<int:residence_id>/resubmit", methods=["POST"])
@login_required
@once
def resubmit(residence_id: int):
    residence = _residence_or_404(residence_id)
    authorize_or_403("residence.resubmit", residence)
    form = ResubmitForm()
    return submit(
        form,
        lambda: services.resubmit_residence(
            db.session,
            current_user,
            residence,
            name=form.name.data,
            id_number=form.id_number.data,
            phone=form.phone.data,
            move_in=form.move_in.data,
            hometown=form.hometown.data,
            employer=form.employer.data,
            **form.document(),
        ),
        page=lambda status, conflict=None: _card(
            residence, status=status, conflict=conflict, resubmit_form=form
        ),
        message=_("Registration corrected; the police will verify it again."),
        location=url_for("residents.show", residence_id=residence.id),
        fragment=lambda _r: _card(
            _residence_or_404(residence_id), trigger=events.RESIDENCE_RESUBMITTED
        ),
    )


@bp.route("/residents/<int:residence_id>/reveal", methods=["POST"])
@login_required
def reveal(residence_id: int):
    """The full ID number and phone, once, in this answer only (never in a URL; the
    answer is not cached); the audit event records who looked."""
    residence = _residence_or_404(residence_id)
    authorize_or_403("residence.reveal", residence)
    if not EmptyForm().validate_on_submit():
        abort(400)
    id_number, phone = services.reveal(db.session, current_user, residence)
    return answered(_card(residence, revealed={"id_number": id_number, "phone": phone}))


@bp.route("/residents/<int:residence_id>/move-out", methods=["POST"])
@login_required
def move_out(residence_id: int):
    residence = _residence_or_404(residence_id)
    authorize_or_403("residence.move_out", residence)
    form = MoveOutForm()
    return submit(
        form,
        lambda: services.move_out(db.session, current_user, residence, form.move_out.data),
        page=lambda status, conflict=None: _card(
            residence, status=status, conflict=conflict, move_out_form=form
        ),
        message=_("Move-out recorded."),
        location=url_for("residents.show", residence_id=residence.id),
        fragment=lambda _r: _card(residence, trigger=events.RESIDENCE_MOVED_OUT),
    )


# --- reporting -----------------------------------------------------------------------------


def _picked(room=None):
    pick = PickForm(request.args)
    return queries.picker(
        db.session,
        current_user,
        site_id=pick.site_id.data if pick.validate() else None,
        building_id=pick.building_id.data if pick.validate() else None,
        room=room,
    )


def _new_page(
    form: ResidenceForm, picker, status: int = 200, conflict=None, block: str = "report_form"
):
    """The report page; for htmx its `block`: the whole form after a POST, only the
    picker after a step (it replaces itself, the details form stays as typed)."""
    form.room_id.choices = choices((r.id, r.number) for r in picker.rooms)
    if picker.room_id and not form.room_id.data:
        form.room_id.data = picker.room_id
    return render(
        "residents/new.html",
        block,
        form=form,
        picker=picker,
        conflict=conflict,
        status=status,
        **LABELS,
    )


def _room_from_args():
    room_id = request.args.get("room_id", type=int)
    if room_id is None:
        return None
    room = visible_or_404(queries.get_room(db.session, room_id), "room.view")
    authorize_or_403("residence.report", room)
    return room


@bp.route("/residents/new", methods=["GET", "POST"])
@login_required
@once
def new():
    authorize_or_403("residence.report_any")
    form = ResidenceForm()
    if request.method == "GET":
        return _new_page(form, _picked(_room_from_args()))
    room = queries.get_room(db.session, form.room_id.data)
    reportable = room is not None and can(current_user, "residence.report", room)
    picker = _picked(room if reportable else None)

    def step():
        if not reportable:
            raise RuleViolation("room_id", _("Choose a room of a site where you report residents."))
        return services.report_residence(
            db.session,
            current_user,
            room,
            name=form.name.data,
            id_number=form.id_number.data,
            phone=form.phone.data,
            move_in=form.move_in.data,
            hometown=form.hometown.data,
            employer=form.employer.data,
            channel=channel_for(current_user, room.building.site),
            **form.document(),
        )

    form.room_id.choices = choices((r.id, r.number) for r in picker.rooms)
    return submit(
        form,
        step,
        page=lambda **kw: _new_page(form, picker, **kw),
        message=lambda r: (
            _("Resident registered and verified.")
            if r.status == "verified"
            else _("Resident reported; the police will verify the registration.")
        ),
        location=lambda r: url_for("residents.show", residence_id=r.id),
        trigger=events.RESIDENCE_REPORTED,
    )


@bp.route("/residents/rooms")
@login_required
def rooms():
    """The cascading choice (site -> building -> room) of the report form: for htmx
    the picker alone (it swaps itself, outerHTML), the whole page otherwise."""
    authorize_or_403("residence.report_any")
    return _new_page(ResidenceForm(formdata=None), _picked(), block="room_picker")


# --- the tenant's self-declaration (public) ----------------------------------------------


def _declare_limit() -> str:
    return current_app.config.get("DECLARE_RATE_LIMIT", "10/hour;30/day")


def _status_limit() -> str:
    return current_app.config.get("DECLARE_STATUS_RATE_LIMIT", "60/hour")


def _site_by_token_or_404(token: str):
    site = places.get_site_by_token(db.session, token)
    if site is None:
        abort(404)
    return site


def _declare_page(site, rooms, form: DeclarationForm, status: int = 200, conflict=None):
    form.room_id.choices = choices(
        [(0, _("Choose your room"))] + [(r.id, f"{r.building.name} {r.number}") for r in rooms]
    )
    return render(
        "residents/declare.html",
        "declare_form",
        site=site,
        form=form,
        conflict=conflict,
        status=status,
    )


@bp.route("/declare/<token>", methods=["GET", "POST"])
@limiter.limit(_declare_limit, methods=["POST"])
@once
def declare(token: str):
    site = _site_by_token_or_404(token)
    rooms = queries.site_rooms(db.session, site)
    form = DeclarationForm()
    if request.method == "GET":
        return _declare_page(site, rooms, form)
    room = {r.id: r for r in rooms}.get(form.room_id.data or 0)

    def step():
        if room is None:
            raise RuleViolation("room_id", _("Choose your room."))
        return services.report_residence(
            db.session,
            None,
            room,
            name=form.name.data,
            id_number=form.id_number.data,
            phone=form.phone.data,
            move_in=form.move_in.data,
            channel="self_declared",
            **form.document(),
        )

    return submit(
        form,
        step,
        page=lambda **kw: _declare_page(site, rooms, form, **kw),
        message=_("Registration received. Keep your reference number."),
        location=lambda r: url_for("residents.declared", ref=r.reference),
    )


@bp.route("/declare/status")
@limiter.limit(_status_limit)  # reference numbers must not be guessable by trying
def declared():
    """What a tenant sees with their reference number: the site, the room and the
    status (with the police's reason when sent back) — no personal data."""
    ref = (request.args.get("ref") or "").strip()
    residence = queries.by_reference(db.session, ref) if ref else None
    return render(
        "residents/status.html",
        residence=residence,
        ref=ref,
        status=404 if ref and residence is None else 200,
        **LABELS,
    )


# --- the register (一幢一册) as a spreadsheet -------------------------------------------------


def _ledger(site, building, fmt: str, name: str):
    """The register download: masked unless the police of the area ask (then the
    download is an audit event, committed with the answer before any row leaves).
    CSV is streamed after the commit; xlsx is written to a temporary file first, so
    the audit event's write is not held open while the workbook is built."""
    if fmt not in exports.FORMATS:
        abort(404)
    authorize_or_403("residence.view_site", site)
    unmasked = exports.unmasked_for(current_user, site)
    rows = exports.ledger_rows(db.session, site=site, building=building, unmasked=unmasked)
    if fmt == "csv":
        resp = Response(
            stream_with_context(exports.csv_chunks(rows)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    else:
        resp = send_file(
            exports.write_xlsx(rows),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=f"{name}.xlsx",
        )
    exports.record_export(db.session, current_user, building or site, fmt, unmasked)
    return answered(resp)


@bp.route("/buildings/<int:building_id>/ledger.<fmt>")
@login_required
def building_ledger(building_id: int, fmt: str):
    building = visible_or_404(places.get_building(db.session, building_id), "building.view")
    return _ledger(building.site, building, fmt, f"ledger-building-{building.id}")


@bp.route("/sites/<int:site_id>/ledger.<fmt>")
@login_required
def site_ledger(site_id: int, fmt: str):
    site = visible_or_404(places.get_site(db.session, site_id), "site.view")
    return _ledger(site, None, fmt, f"ledger-site-{site.id}")


# --- rooms whose people are not all reported (the start page's "and N more") ----------------


@bp.route("/residents/due")
@login_required
def due():
    """Every room at the sites the user runs whose head count exceeds the residents
    reported there, a page at a time (the start page shows the first few)."""
    authorize_or_403("residence.rooms_due")
    page = parse_page(request.args.get("page"))
    total, rooms = start.rooms_due(
        db.session, run_sites(current_user), PER_PAGE, (page - 1) * PER_PAGE
    )
    if total and not rooms:  # past the end: the last page
        page = -(-total // PER_PAGE)
        total, rooms = start.rooms_due(
            db.session, run_sites(current_user), PER_PAGE, (page - 1) * PER_PAGE
        )
    listing = Page(items=rooms, page=page, per_page=PER_PAGE, total=total)
    return render("residents/due.html", "rooms_due", page=listing)

"""Login, logout, password, language, the start page and the admin screens."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from community.accounts import admin_bp, bp, services
from community.accounts.auth import (
    LoginThrottle,
    fresh_session,
    known_device,
    remember_device,
    safe_next,
    start_session,
)
from community.accounts.forms import (
    KIND_LABELS,
    LANGUAGE_LABELS,
    LEVEL_LABELS,
    ROLE_LABELS,
    AreaForm,
    AreaRoleForm,
    DigestForm,
    LocaleForm,
    LoginForm,
    MemberForm,
    OrganizationForm,
    PasswordForm,
    UserEditForm,
    UserForm,
)
from community.accounts.models import Area, Membership, Organization, User
from community.accounts.permissions import authorize_or_403, forget_memberships, role_list
from community.core import events
from community.core.errors import RuleViolation
from community.core.forms import EmptyForm, choices
from community.core.htmx import render, saved, submit
from community.core.once import commit, once
from community.core.start import start_sections
from community.extensions import db

# Labels every template may use. (The header's logout and language forms are plain
# HTML in base.html with csrf_token(): building two WTForms per page cost more.)
bp.add_app_template_global(ROLE_LABELS, "role_labels")
bp.add_app_template_global(KIND_LABELS, "kind_labels")
bp.add_app_template_global(LEVEL_LABELS, "level_labels")
bp.add_app_template_global(LANGUAGE_LABELS, "languages")


def _too_many_attempts(retry_after: int):
    resp = render("errors/error.html", "error", code=429, status=429)
    resp.headers["Retry-After"] = str(retry_after)
    return resp


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render("accounts/login.html", form=form, status=422 if form.errors else 200)
    throttle = LoginThrottle(db.session)
    address = request.remote_addr or "unknown"
    device = known_device(db.session, form.username.data)  # a browser that logged in before
    wait = throttle.retry_after(address, form.username.data, device)
    if wait:  # even the right password waits: the check comes before the comparison
        return _too_many_attempts(wait)
    user = services.authenticate(db.session, form.username.data, form.password.data)
    if user is None:
        throttle.record_failure(address, form.username.data, device)
        form.form_errors.append(_("Wrong username or password."))
        return commit(render("accounts/login.html", form=form, status=401))
    # Committed (the login's audit event) before the session carries the login.
    resp = commit(
        redirect(safe_next(request.args.get("next")) or url_for("accounts.home"), code=303)
    )
    fresh_session()  # nothing from before login (the CSRF token above all) carries over
    login_user(user, remember=form.remember.data)
    start_session()
    return remember_device(resp, user)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        services.log_out(db.session, current_user)
    resp = commit(redirect(url_for("accounts.login"), code=303))
    logout_user()
    fresh_session()
    flash(_("You are logged out."), "info")  # an info, not saved()'s success
    return resp


@bp.route("/")
@login_required
def home():
    sections = start_sections(db.session, current_user._get_current_object())
    return render("accounts/home.html", my_roles=role_list(current_user), sections=sections)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()

    def page(status: int = 200, conflict=None):
        return render(
            "accounts/password.html",
            "password_form",
            form=form,
            digest_form=DigestForm(formdata=None, digest=current_user.notify_digest),
            status=status,
        )

    def step():
        user = current_user._get_current_object()
        services.change_password(
            db.session, user, form.current_password.data, form.new_password.data
        )
        login_user(user)  # re-issue the login with the new session version
        start_session()

    if request.method == "GET":
        return page()
    return submit(
        form,
        step,
        page=page,
        message=_("Your password was changed; other sessions were logged out."),
        location=url_for("accounts.home"),
    )


@bp.route("/account/digest", methods=["POST"])
@login_required
def digest():
    """The daily-digest choice (account page)."""
    form = DigestForm()
    return submit(
        form,
        lambda: services.set_digest(db.session, current_user, bool(form.digest.data)),
        page=lambda **_kw: abort(400),
        message=_("Notification preference saved."),
        location=url_for("accounts.password"),
    )


@bp.route("/locale", methods=["POST"])
def set_locale():
    """The language of the session, and of the account when logged in; the answer is the
    page the switch was made on, in the new language (no message)."""
    form = LocaleForm()

    def step():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            services.set_locale(db.session, current_user, form.locale.data)

    return submit(
        form,
        step,
        page=lambda **_kw: abort(422),
        message=None,
        location=safe_next(request.form.get("next")) or url_for("accounts.home"),
    )


# --- admin ---------------------------------------------------------------


def admin_only(view):
    """403 unless the user may manage the admin screens; under @login_required, so a
    visitor is sent to log in first, and above @once, so nothing is replayed to them."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        authorize_or_403("admin.manage")
        return view(*args, **kwargs)

    return wrapper


def _area_choices(blank: str | None = None):
    areas = db.session.scalars(select(Area).order_by(Area.path)).all()
    pairs = [(a.id, f"{'— ' * (a.path.count('/') - 2)}{a.name}") for a in areas]
    return choices(([("", blank)] if blank is not None else []) + pairs)


@admin_bp.route("/")
@login_required
@admin_only
def index():
    return redirect(url_for("admin.areas"))


@admin_bp.route("/areas", methods=["GET", "POST"])
@login_required
@admin_only
@once
def areas():
    form = AreaForm()
    form.parent_id.choices = _area_choices(_("(none)"))

    def page(status: int = 200, conflict=None):
        all_areas = db.session.scalars(select(Area).order_by(Area.path)).all()
        return render(
            "accounts/admin_areas.html", "area_form", form=form, areas=all_areas, status=status
        )

    if request.method == "GET":
        return page()
    return submit(
        form,
        lambda: services.create_area(
            db.session,
            form.name.data,
            form.level.data,
            db.session.get(Area, form.parent_id.data) if form.parent_id.data else None,
        ),
        page=page,
        message=_("Area created."),
        location=url_for("admin.areas"),
    )


@admin_bp.route("/orgs", methods=["GET", "POST"])
@login_required
@admin_only
@once
def orgs():
    form = OrganizationForm()
    form.area_id.choices = _area_choices("")

    def page(status: int = 200, conflict=None):
        organizations = db.session.scalars(select(Organization).order_by(Organization.name)).all()
        return render(
            "accounts/admin_orgs.html",
            "org_form",
            form=form,
            organizations=organizations,
            status=status,
        )

    if request.method == "GET":
        return page()
    return submit(
        form,
        lambda: services.create_organization(
            db.session, form.name.data, form.kind.data, db.session.get(Area, form.area_id.data)
        ),
        page=page,
        message=_("Organization created."),
        location=lambda org: url_for("admin.org", org_id=org.id),
    )


def _member_page(
    org: Organization, form: MemberForm, status: int = 200, trigger=None, conflict=None
):
    return render(
        "accounts/admin_org.html",
        "members",
        org=org,
        form=form,
        members=services.list_members(db.session, org),
        delete_form=EmptyForm(),
        conflict=conflict,
        status=status,
        trigger=trigger,
    )


@admin_bp.route("/orgs/<int:org_id>")
@login_required
@admin_only
def org(org_id: int):
    organization = db.get_or_404(Organization, org_id)
    return _member_page(organization, MemberForm(formdata=None))


@admin_bp.route("/orgs/<int:org_id>/members", methods=["POST"])
@login_required
@admin_only
@once
def add_member(org_id: int):
    organization = db.get_or_404(Organization, org_id)
    form = MemberForm()

    def step():
        user = services.get_user_by_username(db.session, form.username.data)
        if user is None:
            raise RuleViolation("username", _("No user has this username."))
        return services.add_membership(
            db.session, current_user, user, form.role.data, organization, lead=form.lead.data
        )

    return submit(
        form,
        step,
        page=lambda **kw: _member_page(organization, form, **kw),
        message=_("Member added."),
        location=url_for("admin.org", org_id=org_id),
        fragment=lambda _m: _member_page(
            organization, MemberForm(formdata=None), trigger=events.MEMBER_ADDED
        ),
    )


@admin_bp.route("/orgs/<int:org_id>/members/<int:membership_id>/delete", methods=["POST"])
@login_required
@admin_only
def remove_member(org_id: int, membership_id: int):
    organization = db.get_or_404(Organization, org_id)
    membership = db.get_or_404(Membership, membership_id)
    if membership.organization_id != organization.id:
        abort(404)

    def step():
        services.remove_membership(db.session, current_user, membership)
        forget_memberships()

    return submit(
        EmptyForm(),
        step,
        page=lambda status, conflict=None: _member_page(
            organization, MemberForm(formdata=None), status=status, conflict=conflict
        ),
        message=_("Member removed."),
        location=url_for("admin.org", org_id=org_id),
        fragment=lambda _r: _member_page(
            organization, MemberForm(formdata=None), trigger=events.MEMBER_REMOVED
        ),
    )


@admin_bp.route("/users", methods=["GET", "POST"])
@login_required
@admin_only
@once
def users():
    form = UserForm()

    def page(status: int = 200, conflict=None):
        all_users = db.session.scalars(select(User).order_by(User.username)).all()
        return render(
            "accounts/admin_users.html", "user_form", form=form, users=all_users, status=status
        )

    if request.method == "GET":
        return page()
    return submit(
        form,
        lambda: services.create_user(
            db.session,
            form.username.data,
            form.password.data,
            display_name=form.display_name.data,
            phone=form.phone.data,
            actor=current_user,
        ),
        page=page,
        message=_("User created."),
        location=lambda user: url_for("admin.user", user_id=user.id),
    )


def _user_page(target: User, form: UserEditForm, role_form: AreaRoleForm, status: int = 200):
    member_of = db.session.scalars(
        select(Membership).where(Membership.user_id == target.id).order_by(Membership.role)
    ).all()
    return render(
        "accounts/admin_user.html",
        "user_edit",
        target=target,
        form=form,
        role_form=role_form,
        delete_form=EmptyForm(),
        memberships=member_of,
        status=status,
    )


def _role_form(formdata=None) -> AreaRoleForm:
    form = AreaRoleForm() if formdata is None else AreaRoleForm(formdata=None)
    form.area_id.choices = _area_choices(_("(none)"))
    return form


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
@admin_only
def user(user_id: int):
    target = db.get_or_404(User, user_id)
    # Not `obj=target`: the stored phone is never put into the form (shown masked as
    # its placeholder), and a post without the field must not fall back to it.
    form = UserEditForm(data={"display_name": target.display_name, "active": target.active})
    if request.method == "GET":
        return _user_page(target, form, _role_form(formdata=False))
    return submit(
        form,
        lambda: services.update_user(
            db.session,
            current_user,
            target,
            display_name=form.display_name.data,
            phone=form.phone.data,
            remove_phone=form.remove_phone.data,
            active=form.active.data,
        ),
        page=lambda status, conflict=None: _user_page(
            target, form, _role_form(formdata=False), status
        ),
        message=_("User saved."),
        location=url_for("admin.user", user_id=user_id),
    )


@admin_bp.route("/users/<int:user_id>/roles", methods=["POST"])
@login_required
@admin_only
@once
def add_role(user_id: int):
    target = db.get_or_404(User, user_id)
    role_form = _role_form()
    return submit(
        role_form,
        lambda: services.add_membership(
            db.session,
            current_user,
            target,
            role_form.role.data,
            None,
            db.session.get(Area, role_form.area_id.data) if role_form.area_id.data else None,
        ),
        page=lambda status, conflict=None: _user_page(
            target, UserEditForm(obj=target, formdata=None), role_form, status
        ),
        message=_("Role added."),
        location=url_for("admin.user", user_id=user_id),
    )


@admin_bp.route("/users/<int:user_id>/roles/<int:role_id>/delete", methods=["POST"])
@login_required
@admin_only
def remove_role(user_id: int, role_id: int):
    membership = db.get_or_404(Membership, role_id)
    if membership.user_id != user_id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.remove_membership(db.session, current_user, membership)
    except RuleViolation as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.user", user_id=user_id), code=303)
    return saved(_("Role removed."), url_for("admin.user", user_id=user_id))

"""Routes with no feature: health check, static favicon."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from community.extensions import db, limiter

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:  # noqa: BLE001 - any failure means the database is unreachable
        db.session.rollback()
        return jsonify(status="error", database="error"), 503
    return jsonify(status="ok", database="ok")

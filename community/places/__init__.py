"""Sites, buildings, rooms, QR tokens, posters, the public plaque and association membership."""

from flask import Blueprint

bp = Blueprint("places", __name__)

from community.places import views  # noqa: E402,F401

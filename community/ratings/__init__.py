"""Safety admission inspections, incidents, hazards and monthly star assessments.

One package, three blueprints (inspections, hazards, assessments); each concern
keeps its forms, services and views in the matching module of forms/, services/
and views/.
"""

from flask import Blueprint

inspections_bp = Blueprint("inspections", __name__)
hazards_bp = Blueprint("hazards", __name__)
assessments_bp = Blueprint("assessments", __name__)

from community.ratings import views  # noqa: E402,F401

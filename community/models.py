"""Every model, imported so SQLAlchemy's metadata (and Alembic) sees all tables."""

from community.accounts.models import Area, Membership, Organization, User  # noqa: F401
from community.core.models import AuditEvent, SubmissionToken  # noqa: F401
from community.places.models import AssociationApplication, Building, Room, Site  # noqa: F401
from community.ratings.models import (  # noqa: F401
    Assessment,
    ChecklistItem,
    Hazard,
    Incident,
    Inspection,
    InspectionResult,
)

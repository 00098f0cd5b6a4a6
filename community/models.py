"""Every model, imported so SQLAlchemy's metadata (and Alembic) sees all tables."""

from community.accounts.models import Area, Membership, Organization, User  # noqa: F401
from community.assessments.models import Assessment  # noqa: F401
from community.core.jobs import PeriodicJob  # noqa: F401
from community.core.models import AuditEvent, Notification, SubmissionToken  # noqa: F401
from community.core.rollups import RollupMonth  # noqa: F401
from community.duty.models import CheckpointVisit, DutyCheckpoint, DutyClaim, DutyTask  # noqa: F401
from community.hazards.models import Hazard  # noqa: F401
from community.inspections.models import (  # noqa: F401
    ChecklistItem,
    Incident,
    Inspection,
    InspectionResult,
)
from community.mediation.models import (  # noqa: F401
    CaseEvent,
    CaseMediator,
    CaseParty,
    CasePartyKey,
    MediationCase,
    MediationMember,
    MediationRoom,
    MediationSession,
)
from community.notifications.models import OutboxMessage  # noqa: F401
from community.outreach.models import (  # noqa: F401
    OutreachCorner,
    OutreachEvent,
    OutreachPhoto,
    OutreachSignin,
    VisitRequest,
)
from community.places.models import AssociationApplication, Building, Room, Site  # noqa: F401
from community.residents.compliance.models import (  # noqa: F401
    PointsEntry,
    YellowCard,
    YellowCardProposal,
)
from community.residents.imports.models import ImportJob  # noqa: F401
from community.residents.models import Person, Residence  # noqa: F401

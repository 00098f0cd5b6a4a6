"""The review-queue figure of the area dashboard (registered into core.figures):
what waits in the user's queue within the chosen area, per kind."""

from __future__ import annotations

from flask_babel import gettext as _

from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.core.reviews import kinds_for
from community.reviews.queries import counts as review_counts


def pending_reviews(ctx: FigureContext) -> list[tuple[str, int]] | None:
    """[(kind label, count)] of what waits in the user's review queue within the
    chosen area (ctx.area; none chosen: the whole queue), every kind of the user's
    queue in the queue's order, by the queue's own counting (one query). None when
    the user's queue holds no kind: the figure is left out."""
    kinds = kinds_for(ctx.user)
    if not kinds:
        return None
    found = review_counts(ctx.session, ctx.user, area=ctx.area)
    return [(str(k.label), found.get(k.name, 0)) for k in kinds]


def _reviews(ctx: FigureContext) -> Figure | None:
    pending = pending_reviews(ctx)
    if pending is None:
        return None
    labels = [label for label, _n in pending]
    counts = [n for _label, n in pending]
    return Figure(
        title=_("Pending reviews"),
        columns=[_("Kind"), _("Waiting")],
        rows=[[label, n] for label, n in pending],
        chart=bar_chart(labels, [counts], title=_("Pending reviews"), slot_labels=labels),
        headline=[Headline(_("Pending reviews"), str(sum(counts)), warn=sum(counts) > 0)],
    )


register_figure("reviews", _reviews, order=60)

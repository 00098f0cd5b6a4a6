"""Outreach figure of the area dashboard (registered into core.figures): per kind,
the events held in the last 12 months in `ctx.area_ids`, the people reached and
the enterprises and sites visited, out of those of the areas (four queries,
queries.coverage_by_kind). Left out when no event was held."""

from __future__ import annotations

from flask_babel import gettext as _

from community.core.charts import bar_chart
from community.core.figures import Figure, FigureContext, Headline, register_figure
from community.outreach import queries
from community.outreach.forms import KIND_LABELS


def _coverage(ctx: FigureContext) -> Figure | None:
    result = ctx.once(
        "outreach-coverage",
        lambda: queries.coverage_by_kind(ctx.session, ctx.area_ids, queries.since_of(ctx.today)),
    )
    if not result.any_kind.events:
        return None
    labels = [str(KIND_LABELS[r.kind]) for r in result.rows]
    return Figure(
        title=_("Outreach in the last 12 months"),
        columns=[
            _("Kind"),
            _("Events held"),
            _("People reached"),
            _("Enterprises visited"),
            _("Sites visited"),
        ],
        rows=[
            [label, r.events, r.people, r.enterprises, r.sites]
            for label, r in zip(labels, result.rows, strict=True)
        ]
        + [
            [
                _("Any kind"),
                result.any_kind.events,
                result.any_kind.people,
                f"{result.any_kind.enterprises} / {result.enterprises_total}",
                f"{result.any_kind.sites} / {result.sites_total}",
            ]
        ],
        chart=bar_chart(
            [str(i + 1) for i in range(len(labels))],
            [[r.events for r in result.rows]],
            title=_("Events held per kind"),
            slot_labels=labels,
        ),
        headline=[
            Headline(_("People reached"), str(result.any_kind.people)),
            Headline(
                _("Enterprises never visited"),
                str(result.enterprises_total - result.any_kind.enterprises),
                warn=result.enterprises_total > result.any_kind.enterprises,
            ),
        ],
        note=_("Events held (closed with attendance); coverage per kind in the outreach pages."),
    )


register_figure("outreach-coverage", _coverage, order=80)

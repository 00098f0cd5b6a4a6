"""Distances on the ground (haversine), the near rule of a checkpoint tick, and the
summary of a route walked (distance, time on route, gaps)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

EARTH_RADIUS_M = 6_371_000.0
# A tick within this distance of the checkpoint's place counts as made there.
NEAR_METRES = 50.0
# Two points of a route further apart in time than this are a gap (no signal, the
# page closed, the phone asleep).
GAP = timedelta(minutes=5)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def is_near(checkpoint: Any, lat: float | None, lon: float | None) -> bool | None:
    """True within NEAR_METRES of the checkpoint's place, False farther, None when
    either position is unknown."""
    if lat is None or lon is None or checkpoint.lat is None or checkpoint.lon is None:
        return None
    return metres(lat, lon, checkpoint.lat, checkpoint.lon) <= NEAR_METRES


@dataclass
class Point:
    at: datetime
    lat: float
    lon: float
    accuracy: float | None = None


@dataclass
class RouteSummary:
    points: list[Point]
    distance_m: float
    duration: timedelta
    gaps: list[tuple[datetime, datetime]]


def summarise(points: list[Point]) -> RouteSummary:
    """Distance walked (sum of the legs), time from the first point to the last, and
    the gaps longer than GAP, of points in time order."""
    distance = 0.0
    gaps = []
    for a, b in zip(points, points[1:], strict=False):
        distance += metres(a.lat, a.lon, b.lat, b.lon)
        if b.at - a.at > GAP:
            gaps.append((a.at, b.at))
    duration = points[-1].at - points[0].at if points else timedelta(0)
    return RouteSummary(points, distance, duration, gaps)


@dataclass
class Mark:
    x: float
    y: float
    label: str
    at: datetime
    near: bool | None = None


@dataclass
class Drawing:
    """A route projected into an SVG view box (equirectangular, north up, the
    longitude scaled by the cosine of the latitude)."""

    width: int
    height: int
    polyline: str
    marks: list[Mark]
    start: tuple[float, float] | None
    end: tuple[float, float] | None


def draw(
    points: list[Point],
    marks: list[tuple[float, float, str, datetime, bool | None]],
    width: int = 320,
    height: int = 220,
    pad: int = 14,
) -> Drawing | None:
    """The route and the marks (lat, lon, label, time, near) in a width x height box;
    None when there is nothing with a position to draw."""
    coords = [(p.lat, p.lon) for p in points] + [(m[0], m[1]) for m in marks]
    if not coords:
        return None
    lats = [c[0] for c in coords]
    lons = [c[1] for c in coords]
    shrink = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * shrink, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        x = pad + (lon - min(lons)) * shrink * scale
        y = pad + (max(lats) - lat) * scale
        return round(x, 1), round(y, 1)

    line = [xy(p.lat, p.lon) for p in points]
    return Drawing(
        width=width,
        height=height,
        polyline=" ".join(f"{x},{y}" for x, y in line),
        marks=[Mark(*xy(lat, lon), label, at, near) for lat, lon, label, at, near in marks],
        start=line[0] if line else None,
        end=line[-1] if line else None,
    )

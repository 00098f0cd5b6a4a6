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

"""Small helpers every benchmark script shares: medians with their range, milliseconds, the load average."""
from __future__ import annotations

import os
import statistics
import time


def summary(values, missing=None) -> dict:
    """Median, min, max and count of the samples (``None`` samples skipped; ``missing`` when there are none)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"median": missing, "min": missing, "max": missing, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def ms(t0: float) -> float:
    """Milliseconds since ``t0`` (a ``time.perf_counter()`` reading)."""
    return (time.perf_counter() - t0) * 1000.0


def load_avg(missing: str = "n/a") -> str:
    """The 1/5/15-minute load averages, e.g. ``1.80/2.10/2.40``: the machine is shared, so every report says it."""
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return missing

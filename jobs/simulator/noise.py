"""Counter-based randomness: every random number is a pure function of (seed, stream, integer key).

A stateful RNG would make a value depend on where a run started; hashing the key instead means that
re-simulating an hour, alone or inside a year, gives the same numbers, so fetches are idempotent and a
backfill in chunks equals one in a single go.
"""

from __future__ import annotations

import zlib

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def stream_id(name: str) -> int:
    """A stable integer for a stream name (crc32 is stable across runs, unlike hash())."""
    return zlib.crc32(name.encode("utf-8"))


def hash_u64(seed: int, stream: str | int, keys) -> np.ndarray:
    """splitmix64 of (seed, stream, key) for an array of integer keys."""
    s = stream_id(stream) if isinstance(stream, str) else int(stream)
    k = np.asarray(keys, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        base = np.uint64((int(seed) * 0x9E3779B1 + s * 0x85EBCA77) & 0xFFFFFFFFFFFFFFFF)
        z = k * _GOLDEN + base
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
        # a second round decorrelates neighbouring keys of neighbouring streams
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = z ^ (z >> np.uint64(31))
    return z


def uniform(seed: int, stream: str | int, keys) -> np.ndarray:
    """Uniform [0, 1) per key."""
    return (hash_u64(seed, stream, keys) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def normal(seed: int, stream: str | int, keys) -> np.ndarray:
    """Standard normal per key (Box-Muller on two independent uniforms)."""
    keys = np.asarray(keys, dtype=np.int64)
    u1 = uniform(seed, stream, keys * 2)
    u2 = uniform(seed, stream, keys * 2 + 1)
    u1 = np.maximum(u1, 1e-300)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def smooth_noise(seed: int, stream: str | int, t_hours, period_hours: float) -> np.ndarray:
    """A smooth Gaussian-like process of t (hours since epoch): cubic interpolation between normal knots.

    Knots sit every `period_hours`; the result has roughly unit variance and a correlation time of about
    one period. A pure function of t, so any window gives the same values.
    """
    t = np.asarray(t_hours, dtype=np.float64) / float(period_hours)
    k0 = np.floor(t).astype(np.int64)
    f = t - k0
    # Catmull-Rom through four knots keeps the first derivative continuous (no kinks at the knots).
    p0, p1, p2, p3 = (normal(seed, stream, k0 + d) for d in (-1, 0, 1, 2))
    f2, f3 = f * f, f * f * f
    out = 0.5 * (2 * p1 + (-p0 + p2) * f + (2 * p0 - 5 * p1 + 4 * p2 - p3) * f2 + (-p0 + 3 * p1 - 3 * p2 + p3) * f3)
    return out / 0.82  # Catmull-Rom between unit-variance knots has std ~0.82 mid-way


def hours_since_epoch(index) -> np.ndarray:
    """Float hours since 1970-01-01 UTC for a tz-aware DatetimeIndex."""
    from jobs.common.timeutil import to_epoch_seconds

    return to_epoch_seconds(index).astype(np.float64) / 3600.0

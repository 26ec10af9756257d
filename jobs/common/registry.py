"""Model files and champion/challenger promotion, on top of the store's model registry.

Files: HEA_MODELS_DIR/<name>/<version>.pkl (the pickled model object) and <version>.json (its metadata),
each written to a temporary file and moved into place with os.replace, so a reader never sees half a
model and a retried training simply writes a new version.

Promotion rule: a newly trained model (the challenger) becomes the champion only if it beats the current
champion on the same holdout. The champion was trained on everything up to its own training time, which may
overlap the new holdout; scoring it there would flatter it. So both are scored on the holdout rows the
champion never saw (after its `trained_until`); when fewer than `min_rows` such rows exist (training twice in
a day), both are scored on the whole holdout and the result says the champion had seen part of it.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from jobs.common import settings, timeutil
from jobs.common.protocol import NoInputError

MODEL_SUFFIX = ".pkl"


def model_dir(name: str) -> Path:
    return settings.models_dir() / name


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def new_version(name: str, store=None) -> str:
    """A sortable version id from the (possibly HEA_NOW-fixed) clock, unique in the folder and the registry."""
    base = timeutil.now().strftime("%Y%m%dT%H%M%SZ")
    folder = model_dir(name)
    taken = {m["version"] for m in store.models(name)} if store is not None else set()
    version, n = base, 1
    while (folder / f"{version}{MODEL_SUFFIX}").exists() or version in taken:
        n += 1
        version = f"{base}-{n}"
    return version


def save_model(name: str, version: str, model: Any, metadata: dict) -> Path:
    """Write the model and its metadata atomically; returns the model file's path."""
    folder = model_dir(name)
    path = folder / f"{version}{MODEL_SUFFIX}"
    _atomic_write(path, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    meta = {"name": name, "version": version, "path": str(path), **metadata}
    _atomic_write(folder / f"{version}.json", json.dumps(meta, indent=2, default=str).encode())
    return path


def load_model(path: str | os.PathLike) -> Any:
    with open(path, "rb") as fh:
        return pickle.load(fh)


def champion(store, name: str) -> dict | None:
    """The champion's registry record, or None if there is none."""
    return store.champion(name)


def load_champion(store, name: str, hint: str = "") -> tuple[Any, dict]:
    """The champion model object and its record; NoInputError (exit 66, not retried) if there is none."""
    record = store.champion(name)
    if not record:
        raise NoInputError(f"no trained model '{name}' in the registry{': ' + hint if hint else ''}")
    path = record.get("path")
    if not path or not Path(path).exists():
        raise NoInputError(f"model '{name}' version {record.get('version')} has no file at {path}"
                           f"{': ' + hint if hint else ''}")
    return load_model(path), record


def _record_trained_until(record: dict) -> pd.Timestamp | None:
    for key in ("holdout", "metrics"):
        value = (record.get(key) or {}).get("trained_until") if isinstance(record.get(key), dict) else None
        if value:
            try:
                return timeutil.to_utc(value)
            except ValueError:
                return None
    return None


def challenge(store, name: str, holdout_index: pd.DatetimeIndex, score: Callable[[Any, pd.DatetimeIndex], float],
              challenger: Any, metric: str, higher_is_better: bool = False, min_rows: int = 48) -> dict:
    """Score challenger and champion on the same holdout rows and decide on promotion.

    `score(model, index)` returns the metric of `model` on the holdout rows in `index`.
    Returns {"promoted", "reason", "metric", "challenger_score", "champion_score", "champion_version",
    "compared_rows"}.
    """
    record = store.champion(name)
    out: dict[str, Any] = {"metric": metric, "champion_version": None, "champion_score": None}
    if not record:
        s = score(challenger, holdout_index)
        out.update(promoted=True, reason="no champion yet", challenger_score=s, compared_rows=len(holdout_index))
        return out
    out["champion_version"] = record.get("version")
    try:
        champ = load_model(record["path"])
    except Exception as err:  # a missing or unreadable file must not block a fresh model forever
        s = score(challenger, holdout_index)
        out.update(promoted=True, reason=f"champion {record.get('version')} could not be loaded ({err})",
                   challenger_score=s, compared_rows=len(holdout_index))
        return out
    until = _record_trained_until(record)
    index = holdout_index
    note = ""
    if until is not None:
        unseen = holdout_index[holdout_index > until]
        if len(unseen) >= min_rows:
            index = unseen
        else:
            seen = int((holdout_index <= until).sum())
            note = f" (the champion was trained on {seen} of these {len(holdout_index)} rows)"
    s_new = score(challenger, index)
    try:
        s_old = score(champ, index)
    except Exception as err:  # e.g. the feature set changed between versions
        out.update(promoted=True, reason=f"champion {record.get('version')} could not be scored ({err})",
                   challenger_score=s_new, compared_rows=len(index))
        return out
    better = (s_new > s_old) if higher_is_better else (s_new < s_old)
    if s_old != s_old:  # NaN: the champion produced nothing usable
        better = True
    word = "higher" if higher_is_better else "lower"
    if better:
        reason = f"challenger {metric} {s_new:.4g} beats champion {s_old:.4g} ({word} is better){note}"
    else:
        reason = f"challenger {metric} {s_new:.4g} does not beat champion {s_old:.4g} ({word} is better){note}"
    out.update(promoted=bool(better), reason=reason, challenger_score=s_new, champion_score=s_old,
               compared_rows=len(index))
    return out


def publish(store, name: str, model: Any, metrics: dict, holdout: dict, promoted: bool) -> dict:
    """Save a trained model under a new version and register it (promoted or not)."""
    version = new_version(name, store)
    path = save_model(name, version, model, {"metrics": metrics, "holdout": holdout, "promoted": promoted,
                                            "created_at": timeutil.iso(timeutil.now())})
    store.register_model(name, version, str(path), metrics, holdout, promoted)
    return {"version": version, "path": str(path)}

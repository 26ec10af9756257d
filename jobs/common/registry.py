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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobs.common import settings, timeutil
from jobs.common.files import atomic_write
from jobs.common.protocol import NoInputError

MODEL_SUFFIX = ".pkl"


def model_dir(name: str) -> Path:
    return settings.models_dir() / name


def version_stamp() -> str:
    """A sortable version id from the (possibly HEA_NOW-fixed) clock: 20250115T063000Z."""
    return timeutil.now().strftime("%Y%m%dT%H%M%SZ")


def new_version(name: str, store=None) -> str:
    """A sortable version id from the (possibly HEA_NOW-fixed) clock, unique in the folder and the registry."""
    base = version_stamp()
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
    write_model(path, model)
    write_metadata(folder / f"{version}.json", {"name": name, "version": version, "path": str(path), **metadata})
    return path


def write_model(path: Path, model: Any) -> None:
    """Pickle `model` to `path` atomically. Write the model before its metadata: a reader that finds new
    metadata then always finds the model it describes."""
    atomic_write(path, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def write_metadata(path: Path, meta: dict) -> None:
    atomic_write(path, json.dumps(meta, indent=2, default=str).encode())


# Classes that moved since models were pickled: (old module, name) -> new module.
MOVED = {("jobs.common.forecasting", "FittedModel"): "jobs.common.forecast_model"}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED.get((module, name), module), name)


def load_model(path: str | os.PathLike) -> Any:
    with open(path, "rb") as fh:
        return _Unpickler(fh).load()


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
        raise NoInputError(
            f"model '{name}' version {record.get('version')} has no file at {path}{': ' + hint if hint else ''}"
        )
    return load_model(path), record


def trained_until(record: dict) -> pd.Timestamp | None:
    """The newest hour a registered model was trained on (None when its record does not say)."""
    for key in ("holdout", "metrics"):
        value = (record.get(key) or {}).get("trained_until") if isinstance(record.get(key), dict) else None
        if value:
            try:
                return timeutil.to_utc(value)
            except ValueError:
                return None
    return None


def challenge(
    store,
    name: str,
    holdout_index: pd.DatetimeIndex,
    score: Callable[[Any, pd.DatetimeIndex], float],
    challenger: Any,
    metric: str,
    higher_is_better: bool = False,
    min_rows: int = 48,
) -> dict:
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
        out.update(
            promoted=True,
            reason=f"champion {record.get('version')} could not be loaded ({err})",
            challenger_score=s,
            compared_rows=len(holdout_index),
        )
        return out
    until = trained_until(record)
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
        out.update(
            promoted=True,
            reason=f"champion {record.get('version')} could not be scored ({err})",
            challenger_score=s_new,
            compared_rows=len(index),
        )
        return out
    better = (s_new > s_old) if higher_is_better else (s_new < s_old)
    if s_old != s_old:  # NaN: the champion produced nothing usable
        better = True
    word = "higher" if higher_is_better else "lower"
    if better:
        reason = f"challenger {metric} {s_new:.4g} beats champion {s_old:.4g} ({word} is better){note}"
    else:
        reason = f"challenger {metric} {s_new:.4g} does not beat champion {s_old:.4g} ({word} is better){note}"
    out.update(
        promoted=bool(better), reason=reason, challenger_score=s_new, champion_score=s_old, compared_rows=len(index)
    )
    return out


def publish(store, name: str, model: Any, metrics: dict, holdout: dict, promoted: bool) -> dict:
    """Save a trained model under a new version and register it (promoted or not)."""
    version = new_version(name, store)
    path = save_model(
        name,
        version,
        model,
        {"metrics": metrics, "holdout": holdout, "promoted": promoted, "created_at": timeutil.iso(timeutil.now())},
    )
    store.register_model(name, version, str(path), metrics, holdout, promoted)
    return {"version": version, "path": str(path)}


# --------------------------------------------------------------------------- serving: models against naive
NAIVE = ("yesterday", "7day", "blend")


def window_maes(actual: pd.Series, forecasts: dict, windows: list) -> dict[str, list[float]]:
    """MAE of each forecaster (a Series on `actual`'s index) in each window (a subset of that index), on the
    rows every forecaster covers."""
    out: dict[str, list[float]] = {name: [] for name in forecasts}
    for win in windows:
        a = actual.reindex(win).to_numpy(dtype=float)
        preds = {name: pd.Series(f).reindex(win).to_numpy(dtype=float) for name, f in forecasts.items()}
        ok = np.isfinite(a)
        for p in preds.values():
            ok &= np.isfinite(p)
        for name, p in preds.items():
            out[name].append(float(np.mean(np.abs(a[ok] - p[ok]))) if ok.any() else float("nan"))
    return out


def summed_mae(values: list[float]) -> float:
    """A candidate's per-window MAEs summed over the windows it has a score in (NaN if none)."""
    vals = [v for v in values if v == v]
    return float(np.sum(vals)) if vals else float("nan")


def decide(
    scores: dict[str, list[float]], challenger: str | None = None, champion: str | None = None, naive: tuple = NAIVE
) -> dict:
    """Promotion and serving from per-window MAEs (lower is better) of every candidate on the same windows.

    - The challenger is promoted only if it beats both the champion (when there is one) and the best naive
      forecaster (lowest summed MAE) in more than half of the windows.
    - What serves is whichever of {the model that is champion after this decision, the naive forecasters}
      has the lowest summed MAE over the windows; `margin` is its MAE relative to the runner-up (0.93 = 7%
      better) and `vs_best_naive` relative to the best naive.
    Returns {"promoted", "champion", "serving", "serving_is_naive", "best_naive", "margin", "vs_best_naive",
    "wins", "windows", "pooled_mae", "reason"}.
    """
    pooled = {name: summed_mae(v) for name, v in scores.items()}
    naive_present = [n for n in naive if n in scores and pooled[n] == pooled[n]]
    best_naive = min(naive_present, key=lambda n: pooled[n]) if naive_present else None
    n_windows = max((len(v) for v in scores.values()), default=0)
    promoted, wins, why = False, 0, ""
    if challenger is not None and challenger in scores:
        rivals = [r for r in (champion if champion != challenger else None, best_naive) if r in scores]
        for i in range(n_windows):
            c = scores[challenger][i]
            if c == c and all(c < scores[r][i] for r in rivals if scores[r][i] == scores[r][i]):
                wins += 1
        promoted = wins * 2 > n_windows
        why = (
            f"{challenger} beat {' and '.join(rivals) or 'nothing'} in {wins} of {n_windows} windows"
            f" ({'promoted' if promoted else 'not promoted: needs more than half'})"
        )
    model = challenger if promoted else (champion if champion in scores else None)
    pool = [n for n in ([model] if model else []) + naive_present if pooled[n] == pooled[n]]
    serving = min(pool, key=lambda n: pooled[n]) if pool else (best_naive or "yesterday")
    others = [n for n in pool if n != serving]
    runner_up = min(others, key=lambda n: pooled[n]) if others else None
    margin = pooled[serving] / pooled[runner_up] if runner_up and pooled[runner_up] else float("nan")
    vs_naive = pooled[serving] / pooled[best_naive] if best_naive and pooled[best_naive] else float("nan")
    serving_text = (
        f"serving {serving}: summed MAE {margin:.3f} x {runner_up}'s over {n_windows} windows"
        if runner_up
        else f"serving {serving}"
    )
    if serving in naive and model:
        serving_text += f" (the model {model} did worse than naive: {pooled[model] / pooled[serving]:.3f} x)"
    return {
        "promoted": promoted,
        "champion": model,
        "serving": serving,
        "serving_is_naive": serving in naive,
        "best_naive": best_naive,
        "margin": margin,
        "vs_best_naive": vs_naive,
        "wins": wins,
        "windows": n_windows,
        "pooled_mae": pooled,
        "reason": "; ".join(t for t in (why, serving_text) if t),
    }


def save_serving(name: str, decision: dict) -> None:
    """Record what serves for `name` (a model or a naive forecaster) next to its model files."""
    payload = {**decision, "decided_at": timeutil.iso(timeutil.now())}
    write_metadata(model_dir(name) / "serving.json", payload)


def record_serving(name: str, decision: dict, scores: dict, champion_version: str | None) -> dict:
    """Save what serves for `name` after a training's `decide(...)`; returns the fields its result reports."""
    forecaster = decision["serving"]
    serving_name = f"naive:{forecaster}" if decision["serving_is_naive"] else f"{name}:{champion_version}"
    save_serving(
        name,
        {
            "serving": serving_name,
            "forecaster": forecaster,
            "naive": decision["serving_is_naive"],
            "margin": decision["margin"],
            "vs_best_naive": decision["vs_best_naive"],
            "best_naive": decision["best_naive"],
            "window_mae": scores,
            "reason": decision["reason"],
        },
    )

    def finite(v: float) -> float | None:
        return round(v, 4) if v == v else None

    return {
        "serving": serving_name,
        "serving_margin": finite(decision["margin"]),
        "serving_vs_best_naive": finite(decision["vs_best_naive"]),
    }


def serving(name: str) -> dict | None:
    """The last serving decision for `name`, or None (then the champion serves, as before)."""
    path = model_dir(name) / "serving.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None

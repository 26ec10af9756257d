"""Features of the demand model: occupancy from a hidden Markov model, temperature forecast, calendar, lags.

Occupancy (home, away, asleep) is not measured, but it shows in the consumption: a GaussianHMM (hmmlearn)
with HEA_DEMAND_HMM_STATES states (default 3; 0 leaves these features out) is fitted on the hour's consumption relative to its trailing
7-day mean (log scale), which removes the seasonal and heat-pump level and leaves the household's rhythm.
Its *filtered* state probabilities (forward algorithm: each hour's posterior uses only hours up to it, never
later ones) become features, 24 hours back and as a 7-day same-slot average: "at this time of day, was the
home usually active?". Smoothed posteriors (hmmlearn's predict_proba) would peek at the future.

Temperature enters as the forecast (forecast.weather.temperature), with a 24-hour mean for the building's
thermal inertia and heating degrees below 17 degC, since the heat pump follows them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common import features as fc
from jobs.common import settings, timeutil

TARGET = "home.consumption"


def hmm_states() -> int:
    """HEA_DEMAND_HMM_STATES (default 0: on the real households its features did not pay, docs/models.md);
    0 leaves the occupancy features out."""
    n = settings.env_int("HEA_DEMAND_HMM_STATES", 0)
    return 0 if n <= 0 else max(2, n)


def load_consumption(store, start=None, end=None) -> pd.Series:
    return fc.to_hourly(store.read_series(TARGET, start, end))


def hmm_observations(series: pd.Series, grid: pd.DatetimeIndex) -> np.ndarray:
    """log1p(consumption) minus the log1p of its trailing 7-day mean: NaN where unknown."""
    s = series.reindex(grid).clip(lower=0)
    trailing = s.rolling(168, min_periods=24).mean().shift(1)
    return (np.log1p(s) - np.log1p(trailing)).to_numpy(dtype=float)


HMM_RESTARTS = 4
# States separate when neighbouring means are at least this many standard deviations apart (of the wider
# one) and every state holds at least MIN_STATE_SHARE of the hours; otherwise the states are one state
# in disguise and their probabilities carry no information (what happened on every real window before).
MIN_SEPARATION = 0.5
MIN_STATE_SHARE = 0.02


class Occupancy:
    """A fitted GaussianHMM and the forward filter that turns consumption into state probabilities."""

    def __init__(self, n_states: int, seed: int = 0, restarts: int = HMM_RESTARTS):
        self.n_states = n_states
        self.seed = seed
        self.restarts = max(1, restarts)
        self.startprob = self.transmat = self.means = self.vars = None
        self.order = None
        self.shares = None
        self.log_likelihood = None

    def fit(self, series: pd.Series) -> Occupancy:
        """The best of `restarts` EM runs from different random starts (highest log-likelihood)."""
        from hmmlearn.hmm import GaussianHMM

        grid = fc.hourly_grid(series.index.min(), series.index.max() + fc.HOUR)
        obs = hmm_observations(series, grid)
        x = obs[np.isfinite(obs)].reshape(-1, 1)
        if len(x) < 24 * 7:
            raise ValueError("too little consumption history for the occupancy model")
        best, best_ll = None, -np.inf
        for r in range(self.restarts):
            cand = GaussianHMM(
                n_components=self.n_states, covariance_type="diag", n_iter=60, tol=1e-3, random_state=self.seed + r
            )
            try:
                cand.fit(x)
                ll = float(cand.score(x))
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(ll) and ll > best_ll:
                best, best_ll = cand, ll
        if best is None:
            raise ValueError("the occupancy HMM did not converge from any start")
        hmm = best
        self.log_likelihood = best_ll
        self.shares = np.bincount(hmm.predict(x), minlength=self.n_states) / len(x)
        # Name states by their mean (0 = lowest use: away/asleep) so features keep their meaning across fits.
        self.order = np.argsort(hmm.means_[:, 0])
        self.startprob = hmm.startprob_[self.order]
        self.transmat = hmm.transmat_[np.ix_(self.order, self.order)]
        self.means = hmm.means_[self.order, 0]
        self.vars = np.diagonal(hmm.covars_, axis1=1, axis2=2)[self.order, 0]
        self.shares = self.shares[self.order]
        return self

    def separation(self) -> dict:
        """Do the states differ? {"separated", "min_gap_sd", "min_share", "means", "shares"}."""
        sd = np.sqrt(self.vars)
        gaps = [(self.means[i + 1] - self.means[i]) / max(sd[i], sd[i + 1], 1e-9) for i in range(self.n_states - 1)]
        min_gap = float(min(gaps)) if gaps else 0.0
        min_share = float(self.shares.min())
        return {
            "separated": bool(min_gap >= MIN_SEPARATION and min_share >= MIN_STATE_SHARE),
            "min_gap_sd": round(min_gap, 3),
            "min_share": round(min_share, 3),
            "means": [round(float(m), 3) for m in self.means],
            "shares": [round(float(v), 3) for v in self.shares],
            "restarts": self.restarts,
        }

    def probabilities(self, series: pd.Series, start, end) -> pd.DataFrame:
        """Filtered state probabilities on the hourly grid [start, end): column s = P(state s | up to t)."""
        grid = fc.hourly_grid(start, end)
        return pd.DataFrame(self.filtered(hmm_observations(series, grid)), index=grid)

    def filtered(self, obs: np.ndarray) -> np.ndarray:
        """P(state at t | observations up to t), shape (T, K); unknown hours just propagate the chain."""
        k = self.n_states
        logb = -0.5 * (
            ((obs[:, None] - self.means[None, :]) ** 2) / self.vars[None, :] + np.log(2 * np.pi * self.vars[None, :])
        )
        out = np.empty((len(obs), k))
        alpha = self.startprob.copy()
        A = self.transmat
        for t in range(len(obs)):
            if t:
                alpha = alpha @ A
            if np.isfinite(obs[t]):
                lb = logb[t] - np.max(logb[t])
                alpha = alpha * np.exp(lb)
            total = alpha.sum()
            alpha = alpha / total if total > 0 else np.full(k, 1.0 / k)
            out[t] = alpha
        return out

    def features(self, series: pd.Series, index: pd.DatetimeIndex) -> pd.DataFrame:
        """State probabilities 24 hours back and their 7-day same-slot mean, for each hour of `index`."""
        grid = fc.hourly_grid(index.min() - 9 * fc.DAY - 14 * fc.DAY, index.max() + fc.HOUR)
        probs = pd.DataFrame(self.filtered(hmm_observations(series, grid)), index=grid)
        out = {}
        for s in range(self.n_states):
            col = probs[s]
            out[f"occ{s}_lag24"] = col.reindex(index - fc.DAY).to_numpy()
            out[f"occ{s}_slot7"] = np.nanmean(
                np.vstack([col.reindex(index - d * fc.DAY).to_numpy() for d in range(1, 8)]), axis=0
            )
        return pd.DataFrame(out, index=index)


def fit_occupancy(past: pd.Series, states: int, seed: int = 0) -> tuple[Occupancy | None, dict]:
    """Fit the HMM (several restarts) on `past` and check that its states separate: (the model, info), or
    (None, info saying why its features are dropped)."""
    try:
        occ = Occupancy(states, seed).fit(past)
    except ValueError as err:
        return None, {"states": states, "used": False, "note": f"occupancy features dropped: {err}"}
    sep = occ.separation()
    info = {"states": states, **sep}
    if not sep["separated"]:
        info.update(
            used=False,
            note=f"occupancy features dropped: the {states} HMM states do not separate "
            f"(min gap {sep['min_gap_sd']} sd, min share {sep['min_share']})",
        )
        return None, info
    info["used"] = True
    return occ, info


class Weather:
    """Temperature forecast (and its 24 h mean) per hour, as the model is given it."""

    def __init__(self, store, issued_before=None, min_lead: float = 0.0):
        self.store = store
        self.issued_before = issued_before
        self.min_lead = min_lead
        self.coverage = 1.0

    def frame(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        wide = fc.hourly_grid(index.min() - 8 * fc.DAY, index.max() + fc.HOUR)
        vals, self.coverage = fc.weather_forecast(self.store, "temperature", wide, self.issued_before, self.min_lead)
        temp = pd.Series(vals, index=wide)
        mean24 = temp.rolling(24, min_periods=6).mean()
        out = pd.DataFrame(index=index)
        out["fc_temperature"] = temp.reindex(index).to_numpy()
        out["fc_temperature_24h"] = mean24.reindex(index).to_numpy()
        out["heating_degrees"] = np.clip(17.0 - out["fc_temperature_24h"], 0, None)
        # Colder or warmer than last week: what moves the load away from its 7-day same-slot average
        # (the model's base), and what lets trees extrapolate to a colder week than any they trained on.
        week = temp.rolling(168, min_periods=48).mean()
        heat_week = np.clip(17.0 - week, 0, None)
        out["temperature_anomaly"] = out["fc_temperature_24h"].to_numpy() - week.reindex(index - fc.DAY).to_numpy()
        out["heating_anomaly"] = out["heating_degrees"].to_numpy() - heat_week.reindex(index - fc.DAY).to_numpy()
        return out


def build_frame(
    consumption: pd.Series, index: pd.DatetimeIndex, occupancy: Occupancy | None, weather: Weather
) -> pd.DataFrame:
    parts = [fc.calendar_features(index), fc.lag_features(consumption, index, "load")]
    if occupancy is not None:
        parts.append(occupancy.features(consumption, index))
    parts.append(weather.frame(index))
    return pd.concat(parts, axis=1)


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "y"]


def tz() -> str:
    return timeutil.local_tz()

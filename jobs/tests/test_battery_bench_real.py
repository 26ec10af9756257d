"""The real-data battery bench computes what does not change once: load forecasts shared across zones."""

import numpy as np
import pandas as pd

from jobs.bench import battery_real as br


def _load(days: int = 30, seed: int = 0) -> pd.Series:
    idx = pd.date_range("2024-03-01", periods=days * 24, freq="h", tz="UTC")
    rng = np.random.default_rng(seed)
    hour = idx.tz_convert("Europe/Stockholm").hour.to_numpy()
    return pd.Series(0.4 + 0.3 * np.sin(2 * np.pi * hour / 24) + rng.uniform(0, 0.1, len(idx)), index=idx)


def test_load_forecasts_are_shared_by_zones_on_the_same_clock_and_only_by_them(tmp_path):
    load = _load()
    hours = load.index[24 * 25 : 24 * 27]
    first, _ = br.load_forecasts(load, hours, "Europe/Stockholm", 36, str(tmp_path))
    assert len(list(tmp_path.glob("load-*.pkl"))) == 1
    # Copenhagen keeps Stockholm's clock: the same local hours, the same forecasts, read from the cache
    again, _ = br.load_forecasts(load, hours, "Europe/Copenhagen", 36, str(tmp_path))
    assert len(list(tmp_path.glob("load-*.pkl"))) == 1
    np.testing.assert_array_equal(first, again)
    uncached, _ = br.load_forecasts(load, hours, "Europe/Stockholm", 36, None)
    np.testing.assert_allclose(first, uncached)
    # another clock, or another load, is another forecast
    br.load_forecasts(load, hours, "Europe/London", 36, str(tmp_path))
    br.load_forecasts(_load(seed=1), hours, "Europe/Stockholm", 36, str(tmp_path))
    assert len(list(tmp_path.glob("load-*.pkl"))) == 3

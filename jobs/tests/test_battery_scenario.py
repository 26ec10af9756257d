"""When day-ahead prices count as known: 13:00 on the local clock, on daylight-saving days too."""

import pandas as pd
import pytest

from jobs.battery.scenario import _price_known_end


@pytest.mark.parametrize("day", ["2025-10-26", "2025-03-30", "2025-06-15"])  # 25-hour, 23-hour, ordinary
def test_tomorrows_prices_are_known_from_13_local(day):
    idx = pd.date_range(
        pd.Timestamp(day) - pd.Timedelta(days=1), pd.Timestamp(day) + pd.Timedelta(days=3), freq="h", tz="UTC"
    )
    known = _price_known_end(idx, "Europe/Stockholm")
    local = idx.tz_convert("Europe/Stockholm")
    tomorrow_end = (pd.Timestamp(day) + pd.Timedelta(days=2)).tz_localize("Europe/Stockholm").tz_convert("UTC")
    today_end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize("Europe/Stockholm").tz_convert("UTC")
    for i, t in enumerate(local):
        if t.strftime("%Y-%m-%d") != day or t.hour not in (12, 13):
            continue
        end = idx[known[i]]
        assert end == (tomorrow_end if t.hour == 13 else today_end), (t, end)

"""Per-meter forecasting models (the meter training API's job): `python -m jobs.meters.train`."""

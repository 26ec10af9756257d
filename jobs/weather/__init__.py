"""Reference jobs: weather actuals and forecasts."""

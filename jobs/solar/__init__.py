"""Reference jobs: PV production (fetch actuals, predict)."""

"""Reference jobs: spot prices (fetch, train, run_model)."""

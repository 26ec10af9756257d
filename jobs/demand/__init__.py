"""Reference jobs: household consumption and heat pump (fetch, train, predict)."""

"""Reference jobs: data store status."""

"""The Dramatiq peer: a replica of the seed's FastAPI + Dramatiq + Redis meter-training service (issue 12)."""

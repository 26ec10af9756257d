"""prices_data says how many future hours it published for the first time: the control loop's re-plan trigger."""

FIXED_MORNING = "2025-11-03T09:30:00Z"  # 10:30 in Stockholm: tomorrow's prices are not out yet
AFTER_PUBLICATION = "2025-11-03T12:30:00Z"  # 13:30 in Stockholm: they are


def test_new_future_hours_count_only_hours_first_seen(run_job, job_env):
    env = {**job_env, "HEA_NOW": FIXED_MORNING, "HEA_BACKFILL_DAYS": "3"}
    first = run_job("jobs.prices.fetch", env=env)
    assert first.returncode == 0, first.stderr
    # 10:00 .. 24:00 local: the rest of today, from the current hour on
    assert first.result["new_future_hours"] == 14

    again = run_job("jobs.prices.fetch", env=env)
    assert again.returncode == 0, again.stderr
    assert again.result["new_future_hours"] == 0  # nothing new: no re-plan

    published = run_job("jobs.prices.fetch", env={**env, "HEA_NOW": AFTER_PUBLICATION})
    assert published.returncode == 0, published.stderr
    assert published.result["new_future_hours"] == 24  # tomorrow, published at 13:00
    assert published.result["published_through"] == "2025-11-04T22:00:00Z"

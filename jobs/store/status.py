"""store_status: report what the store holds.

    .venv/bin/python -m jobs.store.status

Result: {"series": {name: {"rows", "first", "latest"}}, "forecasts": {name: {"issues", "latest_issue"}},
"models": {name: champion version or null}, "path"}. Environment: HEA_STORE_URL / HEA_DATA_DIR.
"""

from __future__ import annotations

from jobs.common.protocol import parser, progress, run_main
from jobs.common.store import Store
from jobs.common.timeutil import from_epoch_seconds, iso


def main(args) -> dict:
    progress(10, "reading", "series")
    with Store.open() as store:
        series = store.series_status()
        forecasts = {}
        for name, n, last in store.conn.execute(
            "SELECT name, COUNT(DISTINCT issued_at), MAX(issued_at) FROM forecasts GROUP BY name ORDER BY name"
        ).fetchall():
            forecasts[name] = {"issues": int(n), "latest_issue": iso(from_epoch_seconds([last])[0]) if n else None}
        models = {}
        for (name,) in store.conn.execute("SELECT DISTINCT name FROM models ORDER BY name").fetchall():
            champ = store.champion(name)
            models[name] = champ["version"] if champ else None
        path = str(store.path)
    return {"series": series, "forecasts": forecasts, "models": models, "path": path}


if __name__ == "__main__":
    run_main(main, parser("Print the data store's status."))

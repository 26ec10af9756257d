"""What the report jobs share: where their files go, SVG charts with matplotlib (Agg), local time.

A report job writes into HEA_REPORTS_DIR/<report name>/ (the run's report is <report name>.md beside that
folder) and returns its tables, charts and files under the `report` key of its result, which the run's
Markdown report renders (src/activities/reports.ts). Paths in the result are relative to the reports folder.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from jobs.common import timeutil  # noqa: E402
from jobs.common.protocol import UsageError, json_safe  # noqa: E402

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Deterministic SVGs: no timestamps or random ids, so a re-run writes the same bytes.
matplotlib.rcParams["svg.hashsalt"] = "hea"
matplotlib.rcParams["svg.fonttype"] = "none"


class ReportFolder:
    def __init__(self, name: str):
        if not NAME.match(name):
            raise UsageError(f"--report-name must be a plain file name, got {name!r}")
        root = Path(os.environ.get("HEA_REPORTS_DIR") or "reports").resolve()
        self.name = name
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.images: list[dict] = []
        self.files: list[dict] = []
        self.tables: list[dict] = []

    def _rel(self, file: str) -> str:
        return f"{self.name}/{file}"

    def _replace(self, file: str, write) -> None:
        target = self.dir / file
        tmp = target.with_suffix(target.suffix + ".tmp")
        write(tmp)
        os.replace(tmp, target)

    def save_chart(self, fig, file: str, title: str) -> None:
        self._replace(file, lambda p: fig.savefig(p, format="svg", bbox_inches="tight", metadata={"Date": None}))
        plt.close(fig)
        self.images.append({"title": title, "file": self._rel(file)})

    def save_json(self, payload, file: str, title: str) -> None:
        text = json.dumps(json_safe(payload), indent=2)
        self._replace(file, lambda p: p.write_text(text))
        self.files.append({"title": title, "file": self._rel(file)})

    def table(self, title: str, columns: list[str], rows: list[list]) -> None:
        self.tables.append({"title": title, "columns": columns, "rows": json_safe(rows)})

    def section(self) -> dict:
        return {"tables": self.tables, "images": self.images, "files": self.files}


def local_axis(ax, tz: str) -> None:
    """Hours in the home's local time on the x axis."""
    locator = mdates.AutoDateLocator(tz=tz, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    ax.grid(True, alpha=0.3)


def local_hour(ts, tz: str) -> str:
    return timeutil.to_utc(ts).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def figure(rows: int, title: str, height: float = 2.6):
    fig, axes = plt.subplots(rows, 1, figsize=(10, height * rows), sharex=True, squeeze=False)
    fig.suptitle(title)
    return fig, [a[0] for a in axes]

"""HTTP for the source adapters: timeouts, and errors mapped to the job protocol's exit codes.

- timeout, connection refused, HTTP 5xx or 429 -> TransientError (exit 1, retried by the runner);
- other HTTP 4xx -> ConfigError (exit 78: a wrong zone, location or URL will not fix itself);
- a 404 the caller expects (a day not yet published) -> None;
- a body that is not the JSON/CSV it should be -> DataError (exit 65).
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import requests

from jobs.common import settings
from jobs.common.protocol import ConfigError, DataError, TransientError

USER_AGENT = "home-energy-ai/1.0 (+https://github.com/; reference jobs)"


def get(url: str, params: dict | None = None, *, allow_404: bool = False, what: str = "") -> requests.Response | None:
    label = what or url
    try:
        resp = requests.get(url, params=params, timeout=settings.http_timeout(), headers={"User-Agent": USER_AGENT})
    except requests.Timeout as err:
        raise TransientError(f"{label}: timed out after {settings.http_timeout():g} s") from err
    except requests.RequestException as err:  # DNS, refused, reset: the network, not the data
        raise TransientError(f"{label}: {type(err).__name__}: {err}") from err
    if resp.status_code == 404 and allow_404:
        return None
    if resp.status_code >= 500 or resp.status_code == 429:
        raise TransientError(f"{label}: HTTP {resp.status_code} from {resp.url}")
    if resp.status_code >= 400:
        raise ConfigError(f"{label}: HTTP {resp.status_code} from {resp.url}: {resp.text[:200]}")
    return resp


def get_json(url: str, params: dict | None = None, *, allow_404: bool = False, what: str = "") -> Any:
    resp = get(url, params, allow_404=allow_404, what=what)
    if resp is None:
        return None
    try:
        return resp.json()
    except ValueError as err:
        raise DataError(f"{what or url}: the response is not JSON: {resp.text[:120]!r}") from err


def get_csv(url: str, params: dict | None = None, *, what: str = "") -> pd.DataFrame:
    resp = get(url, params, what=what)
    try:
        return pd.read_csv(io.StringIO(resp.text))
    except (ValueError, pd.errors.ParserError) as err:
        raise DataError(f"{what or url}: the response is not CSV: {resp.text[:120]!r}") from err

"""A badges app in process over a fresh SQLite data dir, and a way to put runs in its store."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from lambdasmith.badges import app as badges_app, ingest
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.store import Repo
from lambdasmith.badges.wiring import open_store
from lambdasmith.kit.http.events import Request

START = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


class Pages:
    def __init__(self, data_dir: str, env: dict[str, str] | None = None):
        config = BadgesConfig.from_env({**(env or {}), "LAMBDASMITH_DATA_DIR": data_dir})
        self.store = open_store(config)
        self.app = badges_app.create_app(config, self.store)

    def get(self, path: str, query: dict[str, str] | None = None, **headers: str):
        hdrs = {"host": "127.0.0.1:8000", **{k.replace("_", "-"): v for k, v in headers.items()}}
        return self.app.handle(Request("GET", path, query or {}, headers=hdrs))

    def post_run(self, where: tuple[str, str, str, str], passed: int, failed: int = 0, skipped: int = 0,
                 when: datetime | None = None, **extra) -> dict:
        """A run as ingestion stores it (validated by ingest.parse_payload), `when` defaulting to the next hour."""
        self._n = getattr(self, "_n", 0) + 1
        when = when or START + timedelta(hours=self._n)
        body = {"platform": where[0], "passed": passed, "failed": failed, "skipped": skipped,
                "total": passed + failed + skipped, "url_html": "https://ci.example/runs/1",
                "timestamp": ingest.iso_ms(when), "commit": "0123456789abcdef", "run_id": str(self._n),
                "workflow_run_url": f"https://ci.example/runs/{self._n}", **extra}  # fmt: skip
        result, dt = ingest.parse_payload(json.dumps(body).encode())
        result["ReceivedAt"] = int(dt.timestamp())
        self.store.record(Repo.of(*where), uuid.uuid4().hex, result, ingest.ts_key(dt), dt.timestamp())
        return result


@pytest.fixture
def pages(tmp_path) -> Pages:
    return Pages(str(tmp_path))

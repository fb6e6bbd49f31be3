"""CloudWatch Embedded Metric Format on stdout: metrics without an API call, as Powertools emits them."""

from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = ["MAX_METRICS_PER_DOCUMENT", "Metrics"]

MAX_METRICS_PER_DOCUMENT = 100


class Metrics:
    """Metrics for one function, flushed as EMF documents.

    Namespace and service resolve as in Powertools: an explicit argument, else
    POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME, else the handler's own default — so a
    deployment can match the names its dashboards already use without a code change.
    POWERTOOLS_METRICS_DISABLED=true makes `flush` write nothing.
    """

    def __init__(self, namespace: str | None = None, service: str | None = None, stream: TextIO | None = None, *,
                 default_namespace: str = "lambdasmith", default_service: str = "service_undefined"):  # fmt: skip
        self.namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or default_namespace
        self.service = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or default_service
        self.disabled = (os.environ.get("POWERTOOLS_METRICS_DISABLED") or "").strip().lower() in ("1", "true")
        self.stream = stream
        self.dimensions: dict[str, str] = {"service": self.service}
        self.metadata: dict[str, Any] = {}
        self._values: dict[str, list[float]] = {}
        self._units: dict[str, str] = {}

    def add(self, name: str, value: float = 1, unit: str = "Count") -> None:
        self._values.setdefault(name, []).append(value)
        self._units[name] = unit

    def add_metadata(self, key: str, value: Any) -> None:
        self.metadata[key] = value

    def documents(self, now: float | None = None) -> list[dict[str, Any]]:
        ts = int((time.time() if now is None else now) * 1000)
        names = list(self._values)
        docs = []
        for i in range(0, len(names), MAX_METRICS_PER_DOCUMENT):
            chunk = names[i : i + MAX_METRICS_PER_DOCUMENT]
            doc: dict[str, Any] = {
                "_aws": {
                    "Timestamp": ts,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": self.namespace,
                            "Dimensions": [list(self.dimensions)],
                            "Metrics": [{"Name": n, "Unit": self._units[n]} for n in chunk],
                        }
                    ],
                },
                **self.dimensions,
                **self.metadata,
            }
            for n in chunk:
                vals = self._values[n]
                doc[n] = vals[0] if len(vals) == 1 else vals
            docs.append(doc)
        return docs

    def flush(self) -> None:
        """Write what was added since the last flush (nothing when nothing was added)."""
        out = self.stream or sys.stdout
        for doc in [] if self.disabled else self.documents():
            out.write(json.dumps(doc, separators=(",", ":")) + "\n")
        self._values.clear()
        self._units.clear()
        self.metadata.clear()

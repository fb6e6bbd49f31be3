"""Every knob of `lambdasmith serve` itself: its HTTP server's workers, limits and timeouts, its
logs, and the guards of the Invoke API. One place, read from the environment once at start-up;
the defaults suit one small VPS (a few hundred connections, a slow client never holds a thread).

    LAMBDASMITH_WORKERS              server processes per endpoint (0: one per CPU)   --workers
    LAMBDASMITH_THREADS              handler threads per worker process (more only for slow upstreams:
                                     many runnable threads contend for the GIL and slow every request)
    LAMBDASMITH_HEAD_TIMEOUT_S       a connection must send a complete request head within this
                                     (also how long an idle keep-alive connection stays open)
    LAMBDASMITH_BODY_TIMEOUT_S       …and its body within this once the head is in (else 408)
    LAMBDASMITH_MAX_CONNECTIONS      connections served at once per worker; more wait in the backlog
    LAMBDASMITH_BACKLOG              the listen backlog of each endpoint
    LAMBDASMITH_DRAIN_TIMEOUT_S      on SIGTERM, how long in-flight requests and the pumps may finish
    LAMBDASMITH_TRUSTED_PROXIES      addresses/networks whose X-Forwarded-For names the client
    LAMBDASMITH_LOG_FORMAT           "json" or "console" (default: console on a terminal or with
                                     POWERTOOLS_DEV=true, else json)
    LAMBDASMITH_ACCESS_LOG           one line per request (default true)
    LAMBDASMITH_INVOKE_ALLOWED_ORIGINS  browser origins the Invoke API answers (default: none)
    LAMBDASMITH_INVOKE_CREDENTIALS   KEY:SECRET,… the Invoke API checks SigV4 signatures against;
                                     required when it listens on a non-loopback address

The body caps are the endpoints' own (the services' `max_body_bytes`, the Invoke API's 6 MiB):
`lambdasmith.local.endpoints`.
"""

from __future__ import annotations

import ipaddress
import os
import sys

from lambdasmith.kit.settings import SettingError, Settings, boolean, integer, number, text

__all__ = ["ServeConfig"]


class ServeConfig(Settings):
    workers = integer("LAMBDASMITH_WORKERS", 0)
    threads = integer("LAMBDASMITH_THREADS", 8)
    head_timeout_s = number("LAMBDASMITH_HEAD_TIMEOUT_S", 10)
    body_timeout_s = number("LAMBDASMITH_BODY_TIMEOUT_S", 30)
    max_connections = integer("LAMBDASMITH_MAX_CONNECTIONS", 1024)
    backlog = integer("LAMBDASMITH_BACKLOG", 1024)
    drain_timeout_s = number("LAMBDASMITH_DRAIN_TIMEOUT_S", 30)
    trusted_proxies = text("LAMBDASMITH_TRUSTED_PROXIES")
    log_format = text("LAMBDASMITH_LOG_FORMAT")
    access_log = boolean("LAMBDASMITH_ACCESS_LOG", True)
    invoke_allowed_origins = text("LAMBDASMITH_INVOKE_ALLOWED_ORIGINS")
    invoke_credentials = text("LAMBDASMITH_INVOKE_CREDENTIALS")

    def check(self) -> ServeConfig:
        """Out-of-range values stop `serve` before anything listens, naming the variable."""
        bounds = {"workers": (0, 64), "threads": (1, 1024), "head_timeout_s": (0.1, 600), "body_timeout_s": (0.1, 3600),
                  "max_connections": (1, 1_000_000), "backlog": (1, 65535), "drain_timeout_s": (0, 3600)}  # fmt: skip
        names = {field: env for env, field in self.variables().items()}
        for field, (low, high) in bounds.items():
            value = getattr(self, field)
            if not low <= value <= high:
                raise SettingError(f"{names[field]}={value}: expected {low}..{high}")
        if self.log_format not in ("", "json", "console"):
            raise SettingError(f"LAMBDASMITH_LOG_FORMAT={self.log_format!r}: expected json or console")
        self.proxies()
        return self

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    def proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The trusted proxies as networks (a bare address is a network of one)."""
        out = []
        for part in self.trusted_proxies.split(","):
            if part.strip():
                try:
                    out.append(ipaddress.ip_network(part.strip(), strict=False))
                except ValueError:
                    raise SettingError(
                        f"LAMBDASMITH_TRUSTED_PROXIES: {part.strip()!r} is not an address or network"
                    ) from None
        return tuple(out)

    def console(self) -> bool:
        """Readable lines for a person (development) rather than JSON for a log pipeline."""
        if self.log_format:
            return self.log_format == "console"
        dev = (os.environ.get("POWERTOOLS_DEV") or "").strip().lower() in ("1", "true", "yes", "on")
        return dev or sys.stderr.isatty()

    def origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/").lower() for o in self.invoke_allowed_origins.split(",") if o.strip())

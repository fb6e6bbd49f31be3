"""What every HTTP server of the local platform shares: threads that never hold up shutdown, a
port that can be bound again at once after a restart, a listen backlog for bursts, and its URL."""

from __future__ import annotations

__all__ = ["LocalServer"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class LocalServer:
    """Mixed in before a `socketserver` server class (its attributes win over the defaults)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    if TYPE_CHECKING:
        server_address: Any

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # bound to a host name or IP text, never bytes
        return f"http://{host}:{port}"

"""HTTP in and out: `events` (Lambda HTTP events ↔ Request/Response), `routing`, `responses`,
`wire` (a lean HTTP/1.1 client) and `upstream` (GET with retries, for upstream APIs)."""

"""Items: a create/update/delete event processor invoked directly (sync or async), made
production-ready: client errors answered as 400/404, unexpected failures raised so Lambda counts
them, idempotent per request, with structured logs, EMF metrics and the trace id."""

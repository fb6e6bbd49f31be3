"""The kit every system is built on: HTTP events and routing, responses, storage, secrets,
logs and metrics. Standard library only, cheap to import."""

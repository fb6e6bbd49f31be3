"""Wardrobe: a per-user items API with JWT auth, idempotent create, cursor paging and filters,
a queue-fed share worker with partial batch failures, and an activity feed."""

"""Badges: package-version and CI test-result badges, wire-compatible with BadgeSmith."""

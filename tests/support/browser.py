"""Headless Chromium from Debian's `chromium` package, driven by Playwright for Python.

Playwright cannot download its own browser here (no internet), so it is pointed at the system
one. The flags keep Chromium off the network it would otherwise call at start (component
updates, sync, safe browsing): on a closed machine those calls fail noisily and slowly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager

CHROMIUM = os.environ.get("LAMBDASMITH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--mute-audio",
]  # fmt: skip


@contextmanager
def chromium():
    """A Playwright Browser on the system Chromium, with a fresh profile; closed on exit."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium package")
    with tempfile.TemporaryDirectory(prefix="lambdasmith-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=FLAGS, headless=True, viewport={"width": 1200, "height": 900})
        try:
            yield context
        finally:
            context.close()

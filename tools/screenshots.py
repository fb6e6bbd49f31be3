"""Screenshots of the badges pages for docs/ and the README: docs/images/badge-builder.png and
docs/images/dashboard.png, taken in headless Chromium from a `lambdasmith serve` with made-up data.

    .venv/bin/python tools/screenshots.py     (after `make test` has installed Chromium)
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.test_pages_browser import SECRET, post_run  # noqa: E402
from tests.support.browser import chromium  # noqa: E402
from tests.support.serving import Served  # noqa: E402
from tests.support.upstreams import FakeNuGet  # noqa: E402

OUT = ROOT / "docs" / "images"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    nuget = FakeNuGet({"Newtonsoft.Json": ["12.0.3", "13.0.3", "14.0.0-beta.1"]}).start()
    with tempfile.TemporaryDirectory() as data:
        subprocess.run([sys.executable, "-m", "lambdasmith", "badges", "register-org", "acme", "--type", "testdata",
                        "--secret", SECRET, "--data-dir", data], check=True, capture_output=True)
        served = Served(data, ["badges"], {"NUGET_BASE_URL": nuget.url}).start()
        try:
            base = served.urls["badges"]
            rng = random.Random(7)
            start = datetime.now(timezone.utc) - timedelta(days=10)
            for i in range(24):
                failed = rng.choice([0, 0, 0, 1, 3, 6, 12]) if i < 20 else 0
                post_run(base, "linux", "web", "main", 180 + i * 2 - failed, failed, rng.choice([2, 3]),
                         start + timedelta(hours=9 * i))
            for i in range(6):
                post_run(base, "windows", "web", "main", 175 + i, int(i % 3 == 1), 4, start + timedelta(days=i + 3))
            with chromium() as browser:
                page = browser.new_page()
                page.set_viewport_size({"width": 1100, "height": 760})
                page.goto(base + "/")
                page.get_by_label("Package").fill("Newtonsoft.Json")
                page.get_by_label("Style").select_option("flat")
                page.wait_for_function("() => { const i = document.getElementById('preview');"
                                       " return i.src && i.complete && i.naturalWidth > 0 }")
                page.wait_for_timeout(400)
                page.screenshot(path=str(OUT / "badge-builder.png"), full_page=True)
                page.goto(base + "/dashboard/acme/web")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        finally:
            served.stop()
            nuget.stop()
    print(f"wrote {OUT / 'badge-builder.png'} and {OUT / 'dashboard.png'}")


if __name__ == "__main__":
    main()

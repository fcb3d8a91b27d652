"""Regenerate the pictures in the docs: the html report and the xlsx charts, rendered to PNG.

    .venv/bin/python docs/make_screenshots.py

Needs Debian's chromium (html) and LibreOffice headless with poppler-utils (xlsx):
`apt-get install chromium libreoffice-calc-nogui poppler-utils`. Runs the demo on sample_data in
a temporary folder and writes docs/images/report-html.png and docs/images/report-xlsx.png.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
PRICING = [sys.executable, "-m", "pricing"]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def need(program: str, package: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise SystemExit(f"{program} is not installed: apt-get install {package}")
    return found


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [*PRICING, "demo", "--dir", str(work / "demo")], check=True, capture_output=True
        )
        db = work / "demo" / "pricing.db"
        html, xlsx = work / "report.html", work / "report.xlsx"
        subprocess.run(
            [*PRICING, "--db", str(db), "report", "--by", "rep", "-o", str(html)], check=True
        )
        subprocess.run(
            [*PRICING, "--db", str(db), "report", "--by", "family", "-o", str(xlsx)], check=True
        )

        chromium = need("chromium", "chromium")
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'chromium'}", "--window-size=1100,1700",
             f"--screenshot={IMAGES / 'report-html.png'}", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

        office = need("soffice", "libreoffice-calc-nogui")
        need("pdftoppm", "poppler-utils")
        subprocess.run(
            [office, "--headless", "--convert-to", "pdf", "--outdir", str(work), str(xlsx)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        # Page 1 is the Summary sheet with the realization-by-month chart.
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
             str(work / "report.pdf"), str(IMAGES / "report-xlsx")],
            check=True,
        )  # fmt: skip
    print(f"wrote {IMAGES / 'report-html.png'} and {IMAGES / 'report-xlsx.png'}")


if __name__ == "__main__":
    main()

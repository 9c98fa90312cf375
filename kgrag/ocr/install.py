"""Install what OCR needs: Debian's Tesseract packages and the PP-OCR model directories.

    python -m kgrag.ocr.install      # run by `make install`; cached, safe to re-run

Debian packages are installed with apt-get when running as root where apt exists; otherwise
it prints what to install and exits 0 (PaddleOCR alone still reads Latin pages).
"""

from __future__ import annotations

import os
import shutil
import subprocess

from kgrag.errors import OcrUnavailableError
from kgrag.ocr import ocr_languages
from kgrag.ocr.models import ensure_models
from kgrag.ocr.tesseract import check_tesseract
from kgrag.settings import Settings

# fonts-nanum: the Hangul font the Korean test pages are rendered with (tests, benchmarks)
PACKAGES = ("tesseract-ocr", "tesseract-ocr-eng", "tesseract-ocr-kor", "fonts-nanum")


def missing_packages() -> list[str]:
    """Packages of PACKAGES that dpkg does not list as installed."""
    if shutil.which("dpkg-query") is None:
        return list(PACKAGES)
    missing = []
    for package in PACKAGES:
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in proc.stdout:
            missing.append(package)
    return missing


def install_packages(missing: list[str]) -> str:
    """Install with apt-get as root; returns a line saying what happened or what to do."""
    if not missing:
        return "OCR system packages: installed"
    command = f"apt-get install -y {' '.join(missing)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"OCR needs Debian packages; install them with: sudo {command}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            return f"`{' '.join(args)}` failed ({proc.stderr.strip()[-200:]}); run: {command}"
    return f"OCR system packages installed: {' '.join(missing)}"


def main() -> None:
    settings = Settings()
    print(install_packages(missing_packages()))
    try:
        check_tesseract(ocr_languages(settings))
    except OcrUnavailableError as exc:
        print(f"Tesseract: {exc}")
    try:
        dirs = ensure_models(settings.cache_dir)
    except OcrUnavailableError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"PP-OCR models: {', '.join(str(d) for d in dirs.values())}")


if __name__ == "__main__":
    main()

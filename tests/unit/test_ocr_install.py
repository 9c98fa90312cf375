"""`make install`'s OCR step: apt-get as root, else a line saying what to install."""

from kgrag.ocr import install


def test_nothing_missing_installs_nothing(monkeypatch):
    monkeypatch.setattr(install.subprocess, "run", None)  # would fail if called
    assert install.install_packages([]) == "OCR system packages: installed"


def test_without_root_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(install.os, "geteuid", lambda: 1000)
    line = install.install_packages(["tesseract-ocr-kor"])
    assert line.endswith("sudo apt-get install -y tesseract-ocr-kor")


def test_as_root_it_runs_apt_get(monkeypatch):
    calls = []

    class Done:
        returncode, stderr = 0, ""

    monkeypatch.setattr(install.os, "geteuid", lambda: 0)
    monkeypatch.setattr(install.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(install.subprocess, "run", lambda args, **kw: calls.append(args) or Done())
    assert "installed: tesseract-ocr" in install.install_packages(["tesseract-ocr"])
    assert calls[-1] == ["apt-get", "install", "-y", "-qq", "tesseract-ocr"]


def test_missing_packages_agrees_with_the_machine():
    missing = install.missing_packages()
    assert set(missing) <= set(install.PACKAGES)
    has_binary = install.shutil.which("tesseract") is not None
    assert ("tesseract-ocr" not in missing) == has_binary

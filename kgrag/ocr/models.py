"""PP-OCR ONNX model directories for PaddleOCR, assembled from the `rapidocr` wheel on PyPI.

PaddleOCR's own model download needs hosts we cannot reach; PaddleX accepts instead a
directory holding `inference.onnx` + `inference.yml` (pre/post-processing and, for the
recogniser, the character dictionary, which the ONNX model carries in its `character`
metadata). The wheel's model files are checked against pinned sha256 sums.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import yaml

from kgrag.errors import SetupError
from kgrag.llm.install import _pip_download, sha256_of
from kgrag.ocr.base import OcrUnavailableError

RAPIDOCR_WHEEL = "rapidocr==3.10.0"
DET_MODEL = "PP-OCRv6_small_det"
REC_MODEL = "PP-OCRv6_small_rec"
# model name -> (file inside the wheel, sha256)
FILES = {
    DET_MODEL: (
        "rapidocr/models/PP-OCRv6_det_small.onnx",
        "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    ),
    REC_MODEL: (
        "rapidocr/models/PP-OCRv6_rec_small.onnx",
        "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    ),
}


def _det_config() -> dict:
    # rapidocr 3.x's settings for PP-OCRv6 detection (mean/std 0.5, not ImageNet's)
    return {
        "Global": {"model_name": DET_MODEL},
        "PreProcess": {
            "transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                {"DetResizeForTest": {"resize_long": 960}},
                {
                    "NormalizeImage": {
                        "mean": [0.5, 0.5, 0.5],
                        "std": [0.5, 0.5, 0.5],
                        "scale": 1 / 255,
                        "order": "hwc",
                    }
                },
                {"ToCHWImage": None},
            ]
        },
        "PostProcess": {
            "name": "DBPostProcess",
            "thresh": 0.3,
            "box_thresh": 0.5,
            "max_candidates": 1000,
            "unclip_ratio": 1.6,
            "use_dilation": True,
        },
    }


def _rec_config(model: Path) -> dict:
    import onnxruntime as ort

    meta = ort.InferenceSession(str(model)).get_modelmeta().custom_metadata_map
    if "character" not in meta:
        raise SetupError(f"{model}: no `character` metadata (the recogniser's dictionary)")
    return {
        "Global": {"model_name": REC_MODEL},
        "PreProcess": {
            "transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            ]
        },
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": meta["character"].split("\n")},
    }


def model_dirs(cache_dir: Path) -> dict[str, Path]:
    return {name: cache_dir / "ocr" / name for name in FILES}


def ensure_models(cache_dir: Path) -> dict[str, Path]:
    """Model name -> its directory; fetches and unpacks the wheel once (cached)."""
    dirs = model_dirs(cache_dir)
    if all((d / "inference.yml").exists() for d in dirs.values()):
        return dirs
    try:
        with tempfile.TemporaryDirectory(prefix="kgrag-ocr-") as tmp:
            wheel = _pip_download(RAPIDOCR_WHEEL, Path(tmp))
            with zipfile.ZipFile(wheel) as zf:
                for name, (member, digest) in FILES.items():
                    _unpack(zf, member, digest, dirs[name], name)
    except SetupError as exc:
        raise OcrUnavailableError(
            f"PP-OCR models missing and could not be fetched ({exc}); run `make install` "
            f"with PyPI reachable (it unpacks {RAPIDOCR_WHEEL} into {cache_dir / 'ocr'})"
        ) from exc
    return dirs


def _unpack(zf: zipfile.ZipFile, member: str, digest: str, target: Path, name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{name}.", suffix=".partial", dir=target.parent))
    onnx = staging / "inference.onnx"
    with zf.open(member) as src, open(onnx, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    if sha256_of(onnx) != digest:
        shutil.rmtree(staging)
        raise SetupError(f"{member}: sha256 does not match the pinned {digest}")
    config = _det_config() if name == DET_MODEL else _rec_config(onnx)
    (staging / "inference.yml").write_text(
        yaml.safe_dump(config, allow_unicode=True), encoding="utf-8"
    )
    try:
        staging.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(staging)
        if not (target / "inference.yml").exists():
            raise

"""What pruning dropped, per document, kept in the data dir for `kgrag schema review`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from kgrag.types import PruneReport


class PruneRecord(BaseModel):
    document_id: str
    source: str
    schema_name: str
    schema_version: int
    schema_fingerprint: str
    report: PruneReport


class PruneLog:
    """One JSON file per document under `<data_dir>/prune/`."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = Path(data_dir) / "prune"

    def write(self, record: PruneRecord) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(record.document_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(record.model_dump_json(), encoding="utf-8")
        tmp.replace(path)

    def remove(self, document_id: str) -> None:
        self._path(document_id).unlink(missing_ok=True)

    def records(self) -> list[PruneRecord]:
        if not self.directory.exists():
            return []
        return [
            PruneRecord.model_validate_json(p.read_text(encoding="utf-8"))
            for p in sorted(self.directory.glob("*.json"))
        ]

    def _path(self, document_id: str) -> Path:
        return self.directory / f"{document_id}.json"

"""kgrag's exceptions: one root, a few named children the CLI and API map to exit codes / HTTP."""


def redact(text: str, *secrets: str | None) -> str:
    """`text` (a remote server's reply, an exception message) with each secret replaced by
    `***`: a server that echoes the API key must not put it in our errors and logs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class KgragError(Exception):
    """Root of every error kgrag raises on purpose."""


class SetupError(KgragError):
    """A local component (llama-server, model, graph server) could not be installed."""


class ConfigError(KgragError):
    """Settings or a schema/prompt file are invalid."""


class DocumentError(KgragError):
    """A document could not be read; names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NeedsOcrError(DocumentError):
    """The document (or some pages) has no text layer: it needs OCR."""


class OcrUnavailableError(KgragError):
    """An OCR engine, its models or a system binary is missing; the message says what to install."""


class ServiceUnavailableError(KgragError):
    """A backing service (LLM server, graph store) is unreachable."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service} unavailable: {detail}")
        self.service = service
        self.detail = detail


class GraphStoreError(KgragError):
    """The graph store refused a query or write (not a connectivity problem)."""


class LLMOutputError(KgragError):
    """The LLM returned output that could not be parsed or repaired."""


class IndexCorruptError(KgragError):
    """A vector index file is missing a part, unreadable or out of step with itself."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(
            f"vector index {path} is unusable ({detail}); run `kgrag index rebuild` "
            "to rebuild it from the graph"
        )


class KgeError(KgragError):
    """No usable KGE model: none trained, unreadable, or nothing to train on."""


class DatasetError(KgragError):
    """An evaluation file (QA set, corpus, results) is malformed; names the file and the line."""

"""The four chunkers on English, Korean and Markdown text: exact offsets, no empty or oversized
chunks, header paths, semantic cuts at a topic change, strategy chosen by settings alone."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgrag.cli.main import app
from kgrag.embed import SentenceEmbedder, default_model_path
from kgrag.errors import ConfigError
from kgrag.ingest.chunking import CHUNKERS, chunk_document
from kgrag.ingest.chunking.fixed import embedder_tokenizer
from kgrag.sentences import split_sentences
from kgrag.settings import Settings
from kgrag.types import Document, Page

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data" / "chunking"
KOREAN = ROOT / "samples" / "korean"
SIZE, OVERLAP = 200, 30


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()


def _doc(*texts: str, doc_id: str = "d1") -> Document:
    pages = [Page(number=i, text=t) for i, t in enumerate(texts, start=1)]
    return Document(id=doc_id, title="t", source="s", sha256="x", pages=pages)


FIXTURES = {
    "en": lambda: _doc((DATA / "en.txt").read_text("utf-8"), "Short second page."),
    "ko": lambda: _doc(*(p.read_text("utf-8") for p in sorted(KOREAN.glob("*.md")))),
    "md": lambda: _doc((DATA / "guide.md").read_text("utf-8")),
}


def _settings(chunker: str, **kw) -> Settings:
    return Settings(**{"chunker": chunker, "chunk_size": SIZE, "chunk_overlap": OVERLAP, **kw})


@pytest.mark.parametrize("fixture", FIXTURES)
@pytest.mark.parametrize("chunker", CHUNKERS)
def test_chunks_are_exact_page_slices_never_empty_or_oversized(chunker, fixture, embedder):
    doc = FIXTURES[fixture]()
    chunks = chunk_document(doc, _settings(chunker), embedder)
    assert len(chunks) > len(doc.pages)  # the fixtures are longer than one chunk
    for c in chunks:
        page = doc.pages[c.page - 1].text
        assert page[c.start : c.end] == c.text
        assert c.text.strip() == c.text != ""
        assert len(c.text) <= SIZE
        assert c.document_id == "d1"
    assert len({c.id for c in chunks}) == len(chunks)
    again = chunk_document(doc, _settings(chunker), embedder)
    assert [c.id for c in again] == [c.id for c in chunks]  # stable


@pytest.mark.parametrize("fixture", FIXTURES)
@pytest.mark.parametrize("chunker", CHUNKERS)
def test_no_text_is_lost(chunker, fixture, embedder):
    doc = FIXTURES[fixture]()
    chunks = chunk_document(doc, _settings(chunker), embedder)
    for page in doc.pages:
        covered = [False] * len(page.text)
        for c in (c for c in chunks if c.page == page.number):
            covered[c.start : c.end] = [True] * (c.end - c.start)
        lost = "".join(ch for ch, seen in zip(page.text, covered, strict=True) if not seen)
        assert not lost.strip(), lost


@pytest.mark.parametrize("fixture", ["en", "ko"])
def test_semantic_chunks_are_whole_sentences(fixture, embedder):
    """Cuts fall between sentences whenever no single sentence is longer than chunk_size."""
    doc = FIXTURES[fixture]()
    starts = {(p.number, s) for p in doc.pages for s, _ in split_sentences(p.text)}
    ends = {(p.number, e) for p in doc.pages for _, e in split_sentences(p.text)}
    for c in chunk_document(doc, _settings("semantic", chunk_size=400), embedder):
        assert (c.page, c.start) in starts and (c.page, c.end) in ends


def test_markdown_keeps_the_header_path():
    doc = FIXTURES["md"]()
    chunks = chunk_document(doc, _settings("markdown"))
    by_start = [(c.section, c.text.split("\n", 1)[0]) for c in chunks]
    assert by_start[0] == (None, "Notes before any heading.")
    # a heading with no body joins its first subsection
    assert ("Buoy Manual > Installation", "# Buoy Manual") in by_start
    # `# this line is code` inside a fence is not a heading
    assert not any("this line is code" in (s or "") for s, _ in by_start)
    assert ("Buoy Manual > Installation > Anchoring", "### Anchoring") in by_start
    assert ("Buoy Manual > Operation > Power", "## Operation") in by_start
    assert by_start[-1] == ("Appendix", "# Appendix")
    power = [c for c in chunks if c.section == "Buoy Manual > Operation > Power"]
    assert len(power) >= 3  # the long section is split further, keeping its path


def test_markdown_header_path_carries_over_pages():
    doc = _doc("# Manual\n\n## Power\n\nCharge it.", "Still about power.\n\n## Repair\n\nFix it.")
    got = [(c.page, c.section, c.text) for c in chunk_document(doc, _settings("markdown"))]
    assert got == [
        (1, "Manual > Power", "# Manual\n\n## Power\n\nCharge it."),
        (2, "Manual > Power", "Still about power."),
        (2, "Manual > Repair", "## Repair\n\nFix it."),
    ]


def test_semantic_cuts_at_the_topic_change(embedder):
    text = (DATA / "two_topics.txt").read_text("utf-8")
    chunks = chunk_document(_doc(text), _settings("semantic", chunk_size=2000), embedder)
    assert [c.text for c in chunks] == [line for line in text.splitlines() if line]


def test_semantic_needs_an_embedder():
    with pytest.raises(ConfigError, match="embedder"):
        chunk_document(FIXTURES["en"](), _settings("semantic"))


def test_fixed_windows_step_by_size_minus_overlap():
    page = FIXTURES["en"]().pages[0]
    chunks = [c for c in chunk_document(_doc(page.text), _settings("fixed"))]
    for i, c in enumerate(chunks):
        window = i * (SIZE - OVERLAP)
        assert window <= c.start and not page.text[window : c.start].strip()  # trimmed only
    assert all(
        b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False)
    )  # neighbours share text
    assert chunks[-1].end == len(page.text.rstrip())


@pytest.mark.parametrize("fixture", ["en", "ko"])
def test_fixed_in_tokens_counts_the_embedders_tokens(fixture):
    """Windows of at most chunk_size of the page's tokens (cut at token edges)."""
    doc = FIXTURES[fixture]()
    tokenize = embedder_tokenizer(default_model_path())
    settings = _settings("fixed", chunk_unit="tokens", chunk_size=100, chunk_overlap=20)
    chunks = chunk_document(doc, settings)
    counts = []
    for c in chunks:
        tokens = tokenize(doc.pages[c.page - 1].text)
        counts.append(sum(c.start <= s and e <= c.end for s, e in tokens))
        assert any(s == c.start for s, _ in tokens) and any(e == c.end for _, e in tokens)
    assert max(counts) == 100 and min(counts) > 0


def test_ids_differ_when_the_text_differs():
    """Same start, other end: another id, so a re-chunked document never keeps a stale vector."""
    doc = FIXTURES["en"]()
    small = chunk_document(doc, _settings("recursive"))
    large = chunk_document(doc, Settings(chunk_size=500, chunk_overlap=0))
    assert small[0].start == large[0].start and small[0].text != large[0].text
    assert small[0].id != large[0].id


def test_settings_choose_the_chunker_without_code_changes(monkeypatch, tmp_path):
    doc = FIXTURES["md"]()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kgrag.yaml").write_text("chunker: markdown\nchunk_size: 300\nchunk_overlap: 0\n")
    assert {c.section for c in chunk_document(doc, Settings())} > {None}
    monkeypatch.setenv("KGRAG_CHUNKER", "fixed")
    fixed = chunk_document(doc, Settings())
    assert {c.section for c in fixed} == {None}
    assert (fixed[0].start, fixed[0].end, fixed[1].start) == (0, 300, 300)
    monkeypatch.setenv("KGRAG_CHUNKER", "sentences")
    with pytest.raises(ValueError, match="recursive"):
        Settings()


def test_cli_refuses_an_unknown_chunker():
    result = CliRunner().invoke(app, ["ingest", "--chunker", "bogus", "nothing.txt"])
    assert isinstance(result.exception, ConfigError)
    assert "recursive" in str(result.exception)


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_blank_pages_give_no_chunks(chunker, embedder):
    doc = _doc("   \n\n ", "One sentence.", "")
    chunks = chunk_document(doc, _settings(chunker), embedder)
    assert [(c.page, c.text) for c in chunks] == [(2, "One sentence.")]

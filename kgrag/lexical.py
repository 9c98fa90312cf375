"""BM25 over words and character n-grams (SQLite FTS5), so Korean and other languages without
spaces between every morpheme match without a morphological analyser.

Text is cut into lowercase NFKC words, split where the script changes (`TideDB를` -> tidedb,
를; `KX-200은` -> kx, 200, 은). Words of scripts without letter case (Hangul, Han, kana, ...)
are also cut into overlapping character n-grams (`서울에서` -> 서울, 울에, 에서; a word no
longer than n is its own n-gram); Latin-script words and numbers stay whole, since their
n-grams matched unrelated text across languages. Words and n-grams go into two FTS5 columns; a
query matches any of its words or n-grams and rows are ranked by FTS5's BM25. Rows are keyed
by string ids like the vector indexes and change in place.
"""

from __future__ import annotations

import sqlite3
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

FORMAT = "2"  # bump when the token scheme changes: older files are then refilled
# FTS5's BM25 gives a term found in at least half the rows an IDF of ~0 (1e-6), so matching it
# only costs time: "founded" in 31k of 50k chunks made a question's search 34 ms instead of 3.
# Such terms are left out of the query when the index has PRUNE_MIN_ROWS rows or more and a
# rarer term of the query occurs in it (rows that matched only common terms scored ~0).
COMMON_SHARE = 0.5
PRUNE_MIN_ROWS = 1000
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS item (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS lex USING fts5(words, grams, tokenize='unicode61');
"""


def words(text: str) -> list[str]:
    """Lowercase NFKC runs of letters, digits and combining marks, split where the script
    changes between digits, cased letters and uncased letters (marks join the run before)."""
    runs: list[str] = []
    last: str | None = None  # kind of the current run; None between words
    for char in unicodedata.normalize("NFKC", text).casefold():
        kind = _kind(char)
        if kind == "mark" and last is not None:
            runs[-1] += char
        elif kind in ("digit", "cased", "uncased"):
            if kind == last:
                runs[-1] += char
            else:
                runs.append(char)
                last = kind
        else:
            last = None
    return runs


def _kind(char: str) -> str | None:
    category = unicodedata.category(char)
    if category[0] == "M":
        return "mark"
    if category[0] == "N":
        return "digit"
    if category[0] != "L":
        return None
    return "cased" if char.lower() != char.upper() else "uncased"


def ngrams(word: str, n: int, *, any_script: bool = False) -> list[str]:
    """Overlapping character n-grams of a word of an uncased script (of any word with
    `any_script`); a shorter word, or one of a cased script or digits, is itself."""
    if len(word) <= n or not (any_script or _kind(word[0]) == "uncased"):
        return [word]
    return [word[i : i + n] for i in range(len(word) - n + 1)]


def text_ngrams(text: str, n: int) -> list[str]:
    return [g for w in words(text) for g in ngrams(w, n)]


class LexicalIndex:
    """A persisted BM25 index of (id, text) rows; every change is committed at once."""

    def __init__(self, path: Path, *, ngram: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.ngram = ngram
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        scheme = f"{FORMAT}:{ngram}"
        with self._lock, self._db:
            self._db.executescript(SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'scheme'").fetchone()
            if row is not None and row[0] != scheme:  # tokens made another way: start over
                self._db.execute("DELETE FROM lex")
                self._db.execute("DELETE FROM item")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('scheme', ?)", (scheme,))
            self._db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, lex, 'col')"
            )

    def close(self) -> None:
        self._db.close()

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM item ORDER BY rowid")]

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM item").fetchone()[0])

    def add(self, ids: list[str], texts: list[str]) -> None:
        """Index texts under ids not yet present (adding an existing id is a no-op)."""
        with self._lock, self._db:
            for id_, text in zip(ids, texts, strict=True):
                cursor = self._db.execute("INSERT OR IGNORE INTO item (id) VALUES (?)", (id_,))
                if cursor.rowcount:
                    self._db.execute(
                        "INSERT INTO lex (rowid, words, grams) VALUES (?, ?, ?)",
                        (cursor.lastrowid, " ".join(words(text)), self._grams(text)),
                    )

    def remove(self, ids: Iterable[str]) -> None:
        with self._lock, self._db:
            for id_ in ids:
                row = self._db.execute("SELECT rowid FROM item WHERE id = ?", (id_,)).fetchone()
                if row is not None:
                    self._db.execute("DELETE FROM lex WHERE rowid = ?", row)
                    self._db.execute("DELETE FROM item WHERE rowid = ?", row)

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM lex")
            self._db.execute("DELETE FROM item")

    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        """Top-k (id, BM25 score) for a free-text query, best first; [] when nothing matches."""
        query = self._match(text)
        if query is None:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT item.id, bm25(lex) AS score FROM lex JOIN item ON item.rowid = lex.rowid "
                "WHERE lex MATCH ? ORDER BY score LIMIT ?",
                (query, k),
            ).fetchall()
        return [(id_, -score) for id_, score in rows]  # FTS5's bm25() is lower-is-better

    def _grams(self, text: str) -> str:
        return " ".join(text_ngrams(text, self.ngram))

    def _match(self, text: str) -> str | None:
        """An FTS5 query: any of the text's words (words column) or n-grams (grams column),
        without the terms too common to score."""
        columns = {
            "words": list(dict.fromkeys(words(text))),
            "grams": list(dict.fromkeys(self._grams(text).split())),
        }
        common = self._common(columns)
        parts = [
            f"{column} : ({' OR '.join(_quote(t) for t in kept)})"
            for column, tokens in columns.items()
            if (kept := [t for t in tokens if (column, t) not in common])
        ]
        return " OR ".join(parts) or None

    def _common(self, columns: dict[str, list[str]]) -> set[tuple[str, str]]:
        """(column, term) pairs in at least COMMON_SHARE of the rows, when leaving them out
        still leaves a term that occurs (see PRUNE_MIN_ROWS)."""
        terms = list({t for tokens in columns.values() for t in tokens})
        if not terms:
            return set()
        with self._lock:
            rows = int(self._db.execute("SELECT count(*) FROM item").fetchone()[0])
            if rows < PRUNE_MIN_ROWS:
                return set()
            marks = ",".join("?" * len(terms))
            counts = self._db.execute(
                f"SELECT col, term, doc FROM temp.vocab WHERE term IN ({marks})", terms
            ).fetchall()
        wanted = {(column, t) for column, tokens in columns.items() for t in tokens}
        found = {(column, term): doc for column, term, doc in counts if (column, term) in wanted}
        common = {key for key, doc in found.items() if doc >= COMMON_SHARE * rows}
        return common if len(found) > len(common) else set()


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'

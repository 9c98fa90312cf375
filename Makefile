# The commands a newcomer needs. `make demo` and `make test` install everything they use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-unit lint clean eval-dev eval-dev-vector

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-run pip only when pyproject.toml changes; `kgrag setup` is cached in ~/.cache/kgrag.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# OCR: Debian tesseract-ocr(-kor) via apt-get when root (else it says what to install), PP-OCR models.
install: $(STAMP)
	$(BIN)/kgrag setup
	$(BIN)/python -m kgrag.ocr.install

demo: install
	$(BIN)/kgrag demo

# The MuSiQue dev benchmark on its first EVAL_LIMIT questions (hours on CPU; all 100: days).
EVAL_DEV ?= ../shared/data/musique-100
EVAL_LIMIT ?= 3
EVAL_STRATEGIES ?= graph vector graph,vector

eval-dev: install
	$(BIN)/kgrag eval $(EVAL_DEV) --limit $(EVAL_LIMIT) --strategies "$(EVAL_STRATEGIES)"

# The vector baseline on the whole dev corpus without extraction: recall of all 100 questions
# (minutes), then answers to the first EVAL_ANSWERS (about 20 s each on CPU).
EVAL_ANSWERS ?= 40
EVAL_VECTOR_DIR ?= .kgrag-eval/musique-100-chunks-only

eval-dev-vector: install
	$(BIN)/kgrag eval $(EVAL_DEV) --chunks-only --retrieval-only --data-dir $(EVAL_VECTOR_DIR)
	$(BIN)/kgrag eval $(EVAL_DEV) --chunks-only --no-ingest --data-dir $(EVAL_VECTOR_DIR) \
		--limit $(EVAL_ANSWERS)

test: install
	$(BIN)/ruff check kgrag tests samples benchmarks
	$(BIN)/pytest -q

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check kgrag tests samples benchmarks
	$(BIN)/ruff format --check kgrag tests samples benchmarks

clean:
	rm -rf .kgrag

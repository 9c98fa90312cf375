# kgrag API image for docker-compose (talks to Neo4j and vLLM; no local LLM or graph server).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kgrag ./kgrag
COPY schemas ./schemas
COPY prompts ./prompts
COPY samples ./samples
RUN pip install --no-cache-dir -e .
# OCR: Tesseract for Korean pages and rotation, libGL for opencv (PaddleOCR), PP-OCR models
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr libgl1 libglib2.0-0 \
        tesseract-ocr-eng tesseract-ocr-kor && rm -rf /var/lib/apt/lists/* \
    && python -c "from pathlib import Path; from kgrag.ocr.models import ensure_models; \
ensure_models(Path('/root/.cache/kgrag'))"
EXPOSE 8000
CMD ["kgrag", "serve", "--host", "0.0.0.0", "--port", "8000"]

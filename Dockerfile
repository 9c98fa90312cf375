# kgrag API image for docker-compose (talks to Neo4j and vLLM; no local LLM or graph server).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kgrag ./kgrag
COPY schemas ./schemas
COPY prompts ./prompts
COPY samples ./samples
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["kgrag", "serve", "--host", "0.0.0.0", "--port", "8000"]

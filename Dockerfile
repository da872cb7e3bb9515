FROM python:3.11-slim
WORKDIR /app
RUN python -m pip install --no-cache-dir uv
COPY pyproject.toml uv.lock README.md ./
COPY domain domain
COPY projections projections
COPY adapters adapters
COPY api api
COPY scripts scripts
COPY schedules schedules
RUN python -m uv sync --frozen --no-dev
ENV PATH=/app/.venv/bin:$PATH
CMD ["parcours", "serve"]

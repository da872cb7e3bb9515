FROM python:3.11-slim
# parcours runs as its own unprivileged user: the code and its environment belong to root and
# are only read; the one writable place is the data folder (/app/data, a volume).
RUN useradd --system --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin parcours
WORKDIR /app
# DejaVu Sans: the Unicode font of the EP session's PDF documents (adapters/render/ep_pdf.py).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN python -m pip install --no-cache-dir uv
COPY pyproject.toml uv.lock README.md LICENSE ./
COPY domain domain
COPY projections projections
COPY adapters adapters
COPY api api
COPY scripts scripts
COPY schedules schedules
RUN python -m uv sync --frozen --no-dev \
    && mkdir -p /app/data && chown parcours:parcours /app/data
ENV PATH=/app/.venv/bin:$PATH PARCOURS_DATA_DIR=/app/data
VOLUME ["/app/data"]
USER parcours
CMD ["parcours", "serve"]

# Procedo's processes (api, worker, scheduler) share this image; see docs/operations.md.

# The designer, built into the Python package's web folder (served at / by the api).
FROM node:22-slim AS designer
WORKDIR /app
COPY designer/package.json designer/package-lock.json designer/
RUN cd designer && npm ci --no-audit --no-fund --loglevel=error
COPY designer designer
COPY docs/flow.schema.json docs/flow.schema.json
RUN mkdir -p backend/procedo && cd designer && npm run build

FROM python:3.11-slim
ENV UV_PYTHON_DOWNLOADS=never PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir "uv>=0.5,<1"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY backend backend
COPY nodes nodes
COPY --from=designer /app/backend/procedo/web backend/procedo/web
RUN uv sync --locked --no-dev && rm -rf /root/.cache
ENV PATH="/app/.venv/bin:$PATH"
CMD ["procedo", "--help"]

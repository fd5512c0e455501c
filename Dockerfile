# Procedo's processes (api, worker, scheduler) share this image; see docs/operations.md.
FROM python:3.11-slim
ENV UV_PYTHON_DOWNLOADS=never PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir "uv>=0.5,<1"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY backend backend
COPY nodes nodes
RUN uv sync --locked --no-dev && rm -rf /root/.cache
ENV PATH="/app/.venv/bin:$PATH"
CMD ["procedo", "--help"]

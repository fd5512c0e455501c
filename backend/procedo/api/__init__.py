"""The HTTP API (`/api/v1`): Litestar controllers over the runtime operations."""

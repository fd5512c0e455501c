"""One controller module per resource of docs/api.md."""

"""The flow format ``procedo.flow/1``: Structs, canonical JSON, validation."""

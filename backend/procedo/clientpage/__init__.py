"""The client page: what the office asks a client for, uploads and fields, approving returns."""

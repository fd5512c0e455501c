"""Secrets at rest (a tenant's SMTP password): encrypted and authenticated with a server key.

The key is 32 random bytes, base64url: ``PROCEDO_SECRET_KEY`` from the environment
(required in the distributed setup, where every process must hold the same key),
or, embedded, the file ``secret.key`` in the data directory, made on first use
with mode 0600. Losing the key loses the stored passwords (set them again);
a database copied without the key reveals none.

Values are sealed with AES-256-GCM (``cryptography``): a random 96-bit nonce per
value, and the owner (the tenant id) as associated data, so a value copied to another
tenant's row, or changed by one bit, does not open. The ``pv1.`` prefix names the
format, so another can be added later without losing stored values.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "pv1."
KEY_ENV = "PROCEDO_SECRET_KEY"
KEY_FILE = "secret.key"
_NONCE = 12
_TAG = 16


class SecretError(ValueError):
    """A key or a stored secret that cannot be used; the message says what to do."""


def new_key() -> str:
    """A fresh server key, as PROCEDO_SECRET_KEY wants it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise SecretError(
            f"{where} is not base64url: make one with `procedo settings new-key`"
        ) from exc
    if len(key) != 32:
        raise SecretError(f"{where} must be 32 bytes in base64url (44 characters); it is not")
    return key


@dataclass(frozen=True)
class SecretBox:
    key: bytes

    def seal(self, plaintext: str, owner: str) -> str:
        """``plaintext`` encrypted for ``owner`` (a tenant id): a new nonce every time."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self.key).encrypt(nonce, plaintext.encode(), owner.encode())
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, owner: str) -> str:
        """The plaintext; SecretError if the key differs or the value was changed or moved."""
        if not sealed.startswith(VERSION):
            raise SecretError("the stored secret is in an unknown format; set it again")
        try:
            token = base64.urlsafe_b64decode(sealed[len(VERSION) :].encode())
        except (binascii.Error, ValueError) as exc:
            raise SecretError("the stored secret is damaged; set it again") from exc
        if len(token) < _NONCE + _TAG:
            raise SecretError("the stored secret is damaged; set it again")
        try:
            plain = AESGCM(self.key).decrypt(token[:_NONCE], token[_NONCE:], owner.encode())
        except InvalidTag as exc:
            raise SecretError(
                f"the stored secret cannot be decrypted with this server's key (was {KEY_ENV} "
                "or the data directory's secret.key changed?); set it again"
            ) from exc
        return plain.decode()

    def seal_bytes(self, plain: bytes, owner: str) -> bytes:
        """Bytes (a document) encrypted for ``owner``: ``pv1.``, the nonce, the sealed bytes."""
        nonce = secrets.token_bytes(_NONCE)
        return VERSION.encode() + nonce + AESGCM(self.key).encrypt(nonce, plain, owner.encode())

    def open_bytes(self, sealed: bytes, owner: str) -> bytes:
        """What seal_bytes sealed; SecretError if the key differs or the bytes were changed."""
        token = sealed[len(VERSION) :]
        if not sealed.startswith(VERSION.encode()) or len(token) < _NONCE + _TAG:
            raise SecretError("the stored document is in an unknown format")
        try:
            return AESGCM(self.key).decrypt(token[:_NONCE], token[_NONCE:], owner.encode())
        except InvalidTag as exc:
            raise SecretError(
                f"the stored document cannot be decrypted with this server's key ({KEY_ENV})"
            ) from exc


def _data_dir() -> Path:
    return Path(os.environ.get("PROCEDO_DATA_DIR", ".procedo-data")).resolve()


def _key_file(folder: Path) -> bytes:
    """The embedded mode's key: read, or made once with mode 0600 (never replaced)."""
    path = folder / KEY_FILE
    folder.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode_key(path.read_text(), str(path))
    with os.fdopen(descriptor, "w") as file:
        file.write(new_key() + "\n")
    return _decode_key(path.read_text(), str(path))


def server_box(data_dir: Path | None = None) -> SecretBox:
    """The box of this server: PROCEDO_SECRET_KEY, else the data directory's key file.

    The distributed setup (PROCEDO_BROKER_URL set) must have PROCEDO_SECRET_KEY:
    a key file on one machine would leave the other processes unable to decrypt.
    """
    text = os.environ.get(KEY_ENV, "")
    if text:
        return SecretBox(_decode_key(text, KEY_ENV))
    if os.environ.get("PROCEDO_BROKER_URL"):
        raise SecretError(
            f"set {KEY_ENV} (the same value for every process; `procedo settings new-key` makes "
            "one) to store or use SMTP passwords in the distributed setup"
        )
    return SecretBox(_key_file(data_dir or _data_dir()))

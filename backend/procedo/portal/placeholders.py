"""Where a message will carry a portal link, before there is one.

Steps are pure (no I/O), so a node cannot make a link. A message's texts render
``subject.portal_url`` as a placeholder, ``{PROCEDO_PUBLIC_URL}/portal/[link]`` (email)
or ``.../p/[link]`` (letters, SMS: a short code), which is also what a stored message
keeps in place of a link it carried (links.redact). The outbox puts a new link in
its place as the message leaves (links.fill); dry runs and previews show it as is.

The same words in a subject's data or a run's variables are made inert first
(``[link]`` becomes ``(link)``), so data can never ask for a link of its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

Form = Literal["portal", "p", "client"]
REDACTED = "[link]"
# The placeholder with whatever address came before it (the public URL may have changed).
PLACEHOLDER = re.compile(r"(?:https?://[^\s\"'<>\[\]]*?)?/(portal|client|p)/\[link\]")
_INERT = re.compile(r"/(portal|client|p)/\[link\]")
# What a link takes in place of its placeholder: a short URL's code (grouped) and a token.
_EXTRA = {"p": 19 - len(REDACTED), "portal": 32 - len(REDACTED), "client": 32 - len(REDACTED)}


def public_base_url() -> str:
    """Where debtors reach this server: ``PROCEDO_PUBLIC_URL`` (the proxy's address)."""
    return os.environ.get("PROCEDO_PUBLIC_URL", "http://localhost:8000").rstrip("/")


def placeholder(form: Form) -> str:
    return f"{public_base_url()}/{form}/{REDACTED}"


def inert(value: Any) -> Any:
    """``value`` with every placeholder in its strings made into plain words."""
    if isinstance(value, str):
        return _INERT.sub(r"/\1/(link)", value) if "[link]" in value else value
    if isinstance(value, Mapping):
        return {key: inert(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [inert(item) for item in value]
    return value


def message_values(
    subject: Mapping[str, Any], variables: Mapping[str, Any], form: Form = "portal"
) -> dict[str, Any]:
    """What a message's texts render with: the data, and ``subject.portal_url`` to be filled.

    Only a debtor's type declares ``portal_url`` (a template of another type that names
    it is refused when saved), and the outbox fills it for a debtor only.
    """
    view = {**inert(subject), "portal_url": placeholder(form)}
    return {"subject": view, "vars": inert(variables)}


def sent_length(text: str) -> int:
    """The length ``text`` will have once its placeholders are links (an SMS's limit)."""
    return len(text) + sum(_EXTRA[found[1]] for found in PLACEHOLDER.finditer(text))

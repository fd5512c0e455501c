"""A flow's display names per UI language (D6), read from its document without decoding it all.

Lists show many flows: each document is decoded into ``labels`` alone (msgspec skips the
rest without building it), and not cached, since drafts of 500 nodes are large keys.
"""

from __future__ import annotations

import msgspec

from procedo.flow.model import FlowLabels


class _Named(msgspec.Struct):
    labels: FlowLabels | None = None


_DECODER = msgspec.json.Decoder(_Named)


def labels_of(document: str | None) -> dict[str, str] | None:
    """``{"en": ..., "nl": ..., "de": ...}`` (the languages given), or None without labels."""
    if not document:
        return None
    try:
        labels = _DECODER.decode(document).labels
    except msgspec.DecodeError:
        return None  # a draft that is no flow yet has no names to show
    if labels is None:
        return None
    named = {lang: getattr(labels, lang) for lang in ("en", "nl", "de")}
    return {lang: text for lang, text in named.items() if text} or None

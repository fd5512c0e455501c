"""Row ids: UUIDv7 (RFC 9562), a millisecond timestamp followed by 74 random bits.

Ids made one after another sort one after another, so the rows a transaction
adds land on the same few pages of every index keyed by them; with random
UUIDv4 each new row dirtied a page of its own in every such index, and writing
those pages was much of what a commit cost (the embedded benchmark runs about a
fifth faster with these). Ids are not secrets: credentials are separate random
values (docs/security.md); 74 random bits keep ids unguessable, and the
timestamp tells only when a row was made, which its own columns say anyway.
"""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    return uuid7()

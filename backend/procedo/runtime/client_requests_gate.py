"""What a phase asks of the client requests (K3) before it moves on by itself.

The interface between phases (procedo.runtime.phases) and client requests, which
the client-requests work fills in: a phase with ``advance: automatic`` moves on
only when this answers 0 for its instance, and is looked at again whenever the
event ``client_request.completed`` is posted on the instance's subject (with
``{"instance_id": ...}`` in its data to name one instance; without it, every
running instance on the subject is looked at). See docs/office.md.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

# Posted on the client subject when a client request is done (uploaded, filled, answered).
CLIENT_REQUEST_COMPLETED = "client_request.completed"


def open_client_requests(session: Session, instance_id: uuid.UUID) -> int:
    """How many client requests of this instance are still open: documents not all in yet,
    returns the client has not approved or declined (procedo.clientpage.requests)."""
    from procedo.clientpage.requests import open_count

    return open_count(session, instance_id)

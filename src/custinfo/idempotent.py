"""The edge of idempotency keys: every creating POST under /api/v1 runs its creation through `Once`.

A route takes `once: Once` and returns `once.run(body, create)`. Without an `Idempotency-Key`
header nothing changes. With one, the key is claimed in the request's transaction before anything
is created; the response is then kept with it, so a retry with the same key and body gets the same
status and body back (marked `Idempotent-Replayed: true`) and creates nothing; the same key with
another body is a 422 naming the header. The bookkeeping is in `core.idempotency`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from custinfo.auth.deps import ApiPrincipal, DbSession
from custinfo.auth.policy import Principal
from custinfo.core import idempotency
from custinfo.core.uow import settle


class IdempotentCreation:
    """One creating request: its key (if sent), its caller and its transaction."""

    def __init__(self, request: Request, session: Session, principal: Principal, key: str | None) -> None:
        self.request = request
        self.session = session
        self.owner = f"user:{principal.user_id}"
        self.key = None if key is None else idempotency.check_key(key.strip())

    def run(
        self, payload: BaseModel | dict[str, Any] | None, create: Callable[[], Any], status: int = 201
    ) -> Any:
        """Create once per key: the first answer is kept and replayed for a retry with the same body."""
        if self.key is None:
            return create()
        body = (
            payload.model_dump(mode="json", exclude_unset=True) if isinstance(payload, BaseModel) else payload
        )
        print_ = idempotency.fingerprint(self.request.method, self.request.url.path, body)
        stored = idempotency.claim(self.session, self.owner, self.key, print_)
        if stored is not None:
            return JSONResponse(
                stored.body,
                status_code=stored.status,
                headers={idempotency.HEADER: self.key, idempotency.REPLAYED_HEADER: "true"},
            )
        content = jsonable_encoder(create())
        settle(self.session)
        idempotency.complete(self.session, self.owner, self.key, status, content)
        return JSONResponse(
            content,
            status_code=status,
            headers={idempotency.HEADER: self.key, idempotency.REPLAYED_HEADER: "false"},
        )


KEY_DESCRIPTION = (
    "Optional. A key you choose per creation (8–200 visible ASCII characters, e.g. a UUID or your own "
    "order number): a retry with the same key and body within 24 hours returns the first response "
    "(header Idempotent-Replayed: true) and creates nothing; the same key with another body is a 422."
)


def idempotent_creation(
    request: Request,
    session: DbSession,
    principal: ApiPrincipal,
    idempotency_key: Annotated[
        str | None, Header(alias=idempotency.HEADER, description=KEY_DESCRIPTION)
    ] = None,
) -> IdempotentCreation:
    """The creation context of an API request (validates the Idempotency-Key header when sent)."""
    return IdempotentCreation(request, session, principal, idempotency_key)


Once = Annotated[IdempotentCreation, Depends(idempotent_creation)]

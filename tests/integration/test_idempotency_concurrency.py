"""Two requests with the same key at the same moment: the second waits for the first and replays it."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from custinfo.core.db import make_session_factory
from custinfo.core.idempotency import IdempotencyRecord, Stored, claim, complete, fingerprint
from custinfo.core.uow import Actor


def test_a_concurrent_duplicate_waits_and_replays_the_first_answer(engine: Engine) -> None:
    factory = make_session_factory(engine)
    owner, key = f"user:test-{uuid.uuid4().hex[:8]}", "concurrent-key-0001"
    print_ = fingerprint("POST", "/api/v1/orders", {"external_id": "WEB-1"})
    first = factory()
    first.info["actor"] = Actor.system("test")
    outcome: dict[str, Any] = {}
    try:
        assert claim(first, owner, key, print_) is None  # the first request holds the key, not yet committed

        def second_request() -> None:
            second = factory()
            second.info["actor"] = Actor.system("test")
            try:
                outcome["answer"] = claim(second, owner, key, print_)
                second.rollback()
            except Exception as error:
                outcome["error"] = error
            finally:
                second.close()

        thread = threading.Thread(target=second_request)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second request must wait for the first one's key"
        complete(first, owner, key, 201, {"id": 7})
        first.commit()
        thread.join(timeout=30)
        assert outcome == {"answer": Stored(201, {"id": 7})}
    finally:
        first.close()
        with engine.begin() as connection:
            connection.execute(delete(IdempotencyRecord).where(IdempotencyRecord.owner == owner))

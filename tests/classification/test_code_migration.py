"""Migration 0006: the classification code moves from customers into classification_states, split in halves."""

from __future__ import annotations

from alembic import command
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from tests.factories import make_customer

from custinfo.classification.models import ClassificationState
from custinfo.core.schema import alembic_config


def _migrate(connection: Connection, revision: str, down: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def _forget_states(connection: Connection, customer_ids: list[int]) -> None:
    connection.execute(delete(ClassificationState).where(ClassificationState.customer_id.in_(customer_ids)))


def test_codes_move_into_the_state_with_their_halves(connection: Connection, session: Session) -> None:
    both, level2_only, unclassified = (make_customer(session) for _ in range(3))
    session.commit()  # creating them classifies them: start these three from no state at all
    _forget_states(connection, [both.id, level2_only.id, unclassified.id])
    _migrate(connection, "0005", down=True)
    assert "classification_code" in {c["name"] for c in inspect(connection).get_columns("customers")}
    connection.execute(
        text("UPDATE customers SET classification_code = :code WHERE id = :id"),
        [{"code": "制造业-高价值-合作中", "id": both.id}, {"code": "合作中", "id": level2_only.id}],
    )
    connection.execute(
        text("INSERT INTO classification_states (customer_id, signature) VALUES (:id, 'sig')"),
        {"id": both.id},
    )

    _migrate(connection, "head")

    assert "classification_code" not in {c["name"] for c in inspect(connection).get_columns("customers")}
    assert "ix_classification_states_code" in {
        i["name"] for i in inspect(connection).get_indexes("classification_states")
    }
    rows = {
        r.customer_id: (r.signature, r.code, r.level1, r.level2)
        for r in connection.execute(
            select(ClassificationState).where(
                ClassificationState.customer_id.in_([both.id, level2_only.id, unclassified.id])
            )
        )
    }
    assert rows == {
        both.id: ("sig", "制造业-高价值-合作中", "制造业-高价值", "合作中"),
        # classified before signatures were kept: an empty one, so the next full run diffs it again
        level2_only.id: ("", "合作中", None, "合作中"),
    }


def test_downgrade_puts_the_codes_back(connection: Connection, session: Session) -> None:
    customer = make_customer(session)
    session.commit()  # classified on creation; give it a known code without re-classifying
    _forget_states(connection, [customer.id])
    connection.execute(
        text("INSERT INTO classification_states (customer_id, signature, code) VALUES (:id, 's', :code)"),
        {"id": customer.id, "code": "制造业-高价值-合作中"},
    )
    _migrate(connection, "0005", down=True)
    code = connection.scalar(
        text("SELECT classification_code FROM customers WHERE id = :id"), {"id": customer.id}
    )
    assert code == "制造业-高价值-合作中"
    _migrate(connection, "head")

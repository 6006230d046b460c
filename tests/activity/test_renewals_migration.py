"""Migration 0012: renewals table, termination reason, and the catalogue in force naming the reason."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, update
from sqlalchemy.engine import Connection

from custinfo.core.schema import alembic_config
from custinfo.protection.models import FieldCatalogueVersion


def _migrate(connection: Connection, revision: str, down: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def test_down_and_up_again_and_an_old_catalogue_gets_the_reason(connection: Connection) -> None:
    _migrate(connection, "0010_audit_mac", down=True)
    assert "contract_renewals" not in inspect(connection).get_table_names()
    assert "termination_reason" not in {c["name"] for c in inspect(connection).get_columns("contracts")}
    latest = connection.execute(
        select(FieldCatalogueVersion).order_by(FieldCatalogueVersion.version.desc()).limit(1)
    ).one()
    document = dict(latest.document)
    contract = {k: v for k, v in document["fields"]["contract"].items() if k != "termination_reason"}
    contract["terminated_on"] = {"level": "L3", "type": "date"}  # an install that raised the contract dates
    document["fields"] = {**document["fields"], "contract": contract}
    connection.execute(
        update(FieldCatalogueVersion).where(FieldCatalogueVersion.id == latest.id).values(document=document)
    )

    _migrate(connection, "head")

    assert "contract_renewals" in inspect(connection).get_table_names()
    assert "ix_customers_updated_at_id" in {i["name"] for i in inspect(connection).get_indexes("customers")}
    newest = connection.execute(
        select(FieldCatalogueVersion).order_by(FieldCatalogueVersion.version.desc()).limit(1)
    ).one()
    assert newest.version == latest.version + 1
    assert newest.document["fields"]["contract"]["termination_reason"] == {"level": "L3", "type": "text"}
    # a catalogue that already names it gets no further version
    _migrate(connection, "0010_audit_mac", down=True)
    _migrate(connection, "head")
    assert (
        connection.execute(
            select(FieldCatalogueVersion.version).order_by(FieldCatalogueVersion.version.desc()).limit(1)
        ).scalar_one()
        == newest.version
    )

"""The one place that wires side effects and long work: event → handlers, and the registered jobs.

`wire()` is called by `create_app`, the CLI and the job runner. Handlers run
inside the transaction that produced the event, at its settle point (see
`custinfo.core.uow.settle`), so a change, its history, its audit entry and the
re-classification it causes land together or not at all. Jobs run in the job
runner, each in its own unit of work (`custinfo.jobs`).
"""

from __future__ import annotations

from custinfo.activity.events import ContractRenewed, ContractTerminated, EngagementRecorded
from custinfo.audit import service as audit
from custinfo.audit.events import DataExported
from custinfo.auth.events import AccountChanged, LoginAttempted, PermissionChanged
from custinfo.backup import jobs as backup_jobs
from custinfo.backup.events import BackupEvent
from custinfo.classification import handlers as classification
from custinfo.classification import jobs as classification_jobs
from custinfo.classification.categories.events import ProductCategoryChanged
from custinfo.classification.governance.events import ProposalDecided
from custinfo.core.uow import DomainEvent, EntityChanged, Handler, Settle, subscribe, unsubscribe_all
from custinfo.customers.vocabularies.events import ConfigurationChanged
from custinfo.jobs.registry import Job, registry
from custinfo.protection.events import AccessDecided, AccessRequested, SensitiveFieldRead, SensitiveSearch

HANDLERS: dict[type[DomainEvent], list[Handler]] = {
    EntityChanged: [
        audit.record_change,
        audit.append_entry,
        classification.note_input_changed,
        classification.forget_deleted_customer,
    ],
    EngagementRecorded: [classification.note_engagement],
    ContractRenewed: [audit.append_entry],
    ContractTerminated: [audit.append_entry],
    LoginAttempted: [audit.append_entry],
    PermissionChanged: [audit.append_entry],
    AccountChanged: [audit.append_entry],
    SensitiveFieldRead: [audit.append_entry],
    SensitiveSearch: [audit.append_entry],
    AccessRequested: [audit.append_entry],
    AccessDecided: [audit.append_entry],
    DataExported: [audit.append_entry],
    ProposalDecided: [audit.append_entry],
    ConfigurationChanged: [audit.append_entry],
    ProductCategoryChanged: [audit.append_entry],
    BackupEvent: [audit.append_entry],
    Settle: [classification.reclassify_noted],
}

JOBS: list[Job] = [classification_jobs.CLASSIFY, backup_jobs.BACKUP, backup_jobs.VERIFY]


def register_jobs() -> None:
    """Register every job of JOBS with the runner (idempotent)."""
    for job in JOBS:
        registry.register(job)


def wire() -> None:
    """Subscribe every handler of HANDLERS and register every job (idempotent: installed afresh each call)."""
    unsubscribe_all()
    for event_type, handlers in HANDLERS.items():
        for handler in handlers:
            subscribe(event_type, handler)
    register_jobs()

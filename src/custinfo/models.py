"""Imports every domain's tables so Base.metadata is complete (Alembic, tests)."""

from custinfo.activity import models as activity_models
from custinfo.audit import models as audit_models
from custinfo.auth import models as auth_models
from custinfo.backup import models as backup_models
from custinfo.classification import models as classification_models
from custinfo.classification.categories import models as category_models
from custinfo.classification.governance import models as governance_models
from custinfo.core import idempotency as idempotency_models
from custinfo.core.db import Base
from custinfo.customers import models as customer_models
from custinfo.customers.vocabularies import models as vocabulary_models
from custinfo.jobs import models as job_models
from custinfo.protection import models as protection_models

__all__ = [
    "Base",
    "activity_models",
    "audit_models",
    "auth_models",
    "backup_models",
    "category_models",
    "classification_models",
    "customer_models",
    "governance_models",
    "idempotency_models",
    "job_models",
    "protection_models",
    "vocabulary_models",
]

"""Who may decide what: one predicate per rule, used for the queue, the buttons and the decision alike.

A policy module may read the columns it judges and does nothing else (no
writes, no permission strings of its own: it asks `auth.policy.can`).
"""

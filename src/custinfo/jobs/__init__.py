"""Job runner: a registry of named jobs, one unit of work per run with progress and history, APScheduler."""

#!/usr/bin/env bash
# Quick start, step 2: install everything and run the whole test suite (lint, types, tests).
# PostgreSQL variants run when CUSTINFO_TEST_DATABASE_URL is set (.ci/run sets it);
# otherwise they skip with the reason. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python scripts/check_house_rules.py
exec .venv/bin/pytest -n auto "$@"

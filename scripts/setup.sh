#!/usr/bin/env bash
# Install everything custinfo needs into ./.venv (Python, pinned by requirements.lock)
# and src/custinfo/web/static/vendor (front-end assets, pinned by package-lock.json).
# Nothing is installed outside the project: without uv on the PATH, the project's own
# environment's pip installs the same hash-pinned lock (the system Python is never changed).
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v uv >/dev/null 2>&1; then
  [ -x .venv/bin/python ] || uv venv --quiet --python python3 .venv
  uv pip sync --quiet --python .venv/bin/python requirements.lock
  uv pip install --quiet --python .venv/bin/python --no-deps -e .
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
fi
bash scripts/assets.sh

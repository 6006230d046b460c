#!/usr/bin/env bash
# Install everything custinfo needs into ./.venv (Python, pinned by requirements.lock)
# and src/custinfo/web/static/vendor (front-end assets, pinned by package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet "uv==0.13.9"
fi
[ -x .venv/bin/python ] || uv venv --quiet --python python3 .venv
uv pip sync --quiet --python .venv/bin/python requirements.lock
uv pip install --quiet --python .venv/bin/python --no-deps -e .
bash scripts/assets.sh

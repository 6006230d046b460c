#!/usr/bin/env bash
# Quick start, step 1: install everything, load the demo data into the embedded
# SQLite database under ./var and serve the web UI (arguments go to `custinfo demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/custinfo demo "$@"

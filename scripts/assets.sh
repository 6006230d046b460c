#!/usr/bin/env bash
# Front-end assets: install the versions pinned by package-lock.json and copy the files the
# app serves into src/custinfo/web/static/vendor/ (gitignored; never fetched from a CDN at run time).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is required to install the front-end assets (Debian: apt-get install npm)" >&2
  exit 1
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

vendor=src/custinfo/web/static/vendor
rm -rf "$vendor"
mkdir -p "$vendor/htmx" "$vendor/bootstrap" "$vendor/bootstrap-icons/fonts" "$vendor/echarts"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx/"
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$vendor/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$vendor/bootstrap/"
cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css "$vendor/bootstrap-icons/"
cp node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2 "$vendor/bootstrap-icons/fonts/"
cp node_modules/echarts/dist/echarts.min.js "$vendor/echarts/"
# The minified files end with sourceMappingURL comments; the maps are not shipped, so drop the
# comments too (browsers would otherwise request missing files).
sed -i -E '/^\/[/*]# sourceMappingURL=/d; s#/[/*]\# sourceMappingURL=[^ ]*( \*/)?$##' \
  "$vendor"/htmx/htmx.min.js "$vendor"/bootstrap/*.{css,js} "$vendor"/echarts/echarts.min.js
echo "Front-end assets installed in $vendor"

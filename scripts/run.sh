#!/usr/bin/env bash
# `make run`: every process of the Procfile under honcho, logs in one terminal, Ctrl-C stops
# them all. The demo data loads in the background as soon as the gateway is ready.
set -euo pipefail
cd "$(dirname "$0")/.."

# Development defaults only: production sets its own (see README, Configuration).
# LARIS_ENV=development lets the gateway start on the public development signing key.
export LARIS_ENV=${LARIS_ENV:-development}
export LARIS_ADMIN_EMAIL=${LARIS_ADMIN_EMAIL:-admin@laris.local}
export LARIS_ADMIN_PASSWORD=${LARIS_ADMIN_PASSWORD:-laris-dev-admin}
export LARIS_HTTP_PORT=${LARIS_HTTP_PORT:-8000}

python -m demodata --wait 120 2>&1 | sed -u 's/^/demo     | /' &
exec honcho start --procfile Procfile

#!/usr/bin/env bash
# `make run`: every process of the Procfile under honcho, logs in one terminal, Ctrl-C stops
# them all. The demo data loads in the background as soon as the gateway is ready, then a
# banner shows the URLs and the demo logins.
set -euo pipefail
cd "$(dirname "$0")/.."

# Development defaults only: production sets its own (see README, Configuration). The code's
# default LARIS_ENV is production, which refuses the development signing key.
export LARIS_ENV=${LARIS_ENV:-development}
export LARIS_ADMIN_EMAIL=${LARIS_ADMIN_EMAIL:-admin@laris.local}
export LARIS_ADMIN_PASSWORD=${LARIS_ADMIN_PASSWORD:-laris-dev-admin}
export LARIS_HTTP_PORT=${LARIS_HTTP_PORT:-8000}

# Under honcho every process writes into a pipe, so each would choose JSON: decide here, from
# this script's own stdout, whether a person (text) or a program (JSON) reads the logs.
# LARIS_LOG_FORMAT=json or text decides instead.
if [[ -z ${LARIS_LOG_FORMAT:-} || ${LARIS_LOG_FORMAT} == auto ]]; then
  if [[ -t 1 ]]; then LARIS_LOG_FORMAT=text; else LARIS_LOG_FORMAT=json; fi
fi
export LARIS_LOG_FORMAT

honcho_options=()
if [[ ${LARIS_LOG_FORMAT} == text ]]; then
  # Text lines already start with the time and the service: honcho's prefix would repeat them.
  honcho_options+=(--no-prefix)
fi

python -m demodata --wait 120 &
exec honcho start "${honcho_options[@]}" --procfile Procfile

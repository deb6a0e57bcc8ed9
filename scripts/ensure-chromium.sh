#!/usr/bin/env bash
# The web pages' browser tests drive Debian's Chromium (package `chromium`, /usr/bin/chromium)
# through Playwright: no browser download. Installs the package when it is absent.
set -euo pipefail

chromium=${LARIS_CHROMIUM:-/usr/bin/chromium}
if [[ -x $chromium ]]; then
  exit 0
fi
echo "Chromium is not installed: installing Debian's chromium package" >&2
if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq chromium >/dev/null
"$chromium" --version

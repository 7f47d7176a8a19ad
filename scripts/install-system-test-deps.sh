#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (a throw-away IMAP server,
# the browser for end-to-end tests); does nothing when they are present.
set -euo pipefail
missing=()
command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "The tests need: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} from Debian's packages…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

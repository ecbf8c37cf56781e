#!/usr/bin/env bash
# Installs the Debian packages the tests need: Chromium (element and end-to-end tests),
# Mosquitto and its clients (integration tests against a real broker), openssl (test certificates).
# Idempotent: does nothing when they are already there; runs `apt-get update` at most once.
set -euo pipefail

PACKAGES=(chromium mosquitto mosquitto-clients openssl)
need=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    need+=("$pkg")
  fi
done

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: ${PACKAGES[*]} already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need these Debian packages, which are missing: ${need[*]}" >&2
  echo "Install them, then run this command again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi

echo "system packages: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system packages: installed ${need[*]}"

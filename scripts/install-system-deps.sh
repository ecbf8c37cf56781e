#!/usr/bin/env bash
# Installs the Debian packages the tests need: Chromium (element and end-to-end tests),
# Mosquitto and its clients (integration tests against a real broker), openssl (test certificates),
# HAProxy and nginx-light (the load balancers of the scale-out tests, packages/testkit/src/haproxy.ts
# and nginx.ts, which start them as children with configs of their own).
# Idempotent: does nothing when they are already there; runs `apt-get update` at most once.
# Installs start no service: Debian's postinst scripts would start haproxy, and nginx on port 80
# (and Mosquitto on 1883); a policy-rc.d that denies every start is in place during the install.
set -euo pipefail

PACKAGES=(chromium mosquitto mosquitto-clients openssl haproxy nginx-light)
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
# invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d before starting a service; 101 is
# "not allowed". Only when there is none (a container image may have its own, left as it is), and
# removed again afterwards. On a systemd machine the units stay enabled for the next boot.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# scripts/install-system-deps.sh: no service starts during its install.\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  trap 'rm -f "$POLICY"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system packages: installed ${need[*]}"

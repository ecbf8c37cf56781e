#!/usr/bin/env bash
# The README's test command: installs what the tests need (Debian packages, the workspace),
# builds, then runs every test suite. `.ci/run` calls this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM=(npx -y pnpm@10.34.9)

bash scripts/install-system-deps.sh
"${PNPM[@]}" install --frozen-lockfile
"${PNPM[@]}" run test

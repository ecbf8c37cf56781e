#!/usr/bin/env bash
# The README's test command: installs what the tests need (Debian packages, the workspace),
# builds, then runs every test suite, the pack check (`pnpm run check:packs`, the last step of
# `pnpm run test`), and a slice of the consumer suite from those same tarballs (every example:
# `pnpm run test:examples`). `.ci/run` calls this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM=(npx -y pnpm@10.34.9)

bash scripts/install-system-deps.sh
"${PNPM[@]}" install --frozen-lockfile
"${PNPM[@]}" run test
LDF_EXAMPLES=html,react,express,fastify LDF_PACKS="$PWD/.artifacts/packs/packs.json" "${PNPM[@]}" run test:examples

#!/usr/bin/env node
// The `live-device-server` bin. The CLI itself is compiled TypeScript (dist/cli.js); this small
// committed file exists so that the bin can be linked at install time, before anything is built
// (a fresh clone of the workspace), and says what to do when the build is missing.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'live-device-server: dist/cli.js is not built yet. In the workspace, run `npx -y pnpm@10.34.9 run build` first.\n',
  );
  process.exit(1);
}
await import(cli.href);

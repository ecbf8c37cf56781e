/**
 * Installs an example app as a user would: a copy of `examples/<app>` in
 * `.artifacts/examples/<app>` whose `@live-device-form/*` dependencies point at the packed
 * tarballs (never at workspace links), installed with plain `npm`.
 * @module
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, inject } from 'vitest';

/** The tarballs `scripts/pack.mjs` made, by package (`protocol`, `server`, `element`). */
export interface Packs {
  protocol: string;
  server: string;
  element: string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORK = join(ROOT, '.artifacts/examples');
const run = promisify(execFile);

/** The apps `LDF_EXAMPLES` (comma-separated) selects; all when unset. */
export function selected(app: string): boolean {
  const only = process.env.LDF_EXAMPLES;
  return (
    !only ||
    only
      .split(',')
      .map((s) => s.trim())
      .includes(app)
  );
}

/** `describe` for one app, skipped when `LDF_EXAMPLES` leaves it out. */
export function describeApp(app: string, body: () => void): void {
  describe.skipIf(!selected(app))(`examples/${app}`, body);
}

/** Runs `npm` (or `npx`) in `cwd`; rejects with its output on failure. */
export async function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const r = await run('npm', args, {
      cwd,
      env: {
        ...process.env,
        ...env,
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        npm_config_update_notifier: 'false',
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return r.stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? err.message}`, {
      cause: e,
    });
  }
}

/**
 * Copies `examples/<app>` (without its node_modules and build output) to `.artifacts/examples/<app>`,
 * points its `@live-device-form/*` dependencies at the tarballs (and overrides the transitive ones),
 * and runs `npm install`. Returns the app's directory.
 */
export async function installApp(app: string, packs: Packs = inject('packs')): Promise<string> {
  const src = join(ROOT, 'examples', app);
  const dir = join(WORK, app);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  cpSync(src, dir, {
    recursive: true,
    filter: (p) => !/[/\\](node_modules|dist|\.angular)([/\\]|$)/.test(p.slice(src.length)),
  });
  const pkgPath = join(dir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, Record<string, string> | undefined>;
  const tarballs: Record<string, string> = {
    '@live-device-form/protocol': `file:${packs.protocol}`,
    '@live-device-form/server': `file:${packs.server}`,
    '@live-device-form/element': `file:${packs.element}`,
  };
  for (const field of ['dependencies', 'devDependencies'] as const) {
    const deps = pkg[field];
    if (!deps) continue;
    for (const name of Object.keys(deps)) if (tarballs[name]) deps[name] = tarballs[name];
  }
  pkg.overrides = { ...pkg.overrides, ...tarballs };
  writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
  if (existsSync(join(dir, 'package-lock.json'))) rmSync(join(dir, 'package-lock.json'));
  await npm(dir, ['install', '--no-audit', '--no-fund', '--loglevel=error']);
  return dir;
}

#!/usr/bin/env node
/**
 * Checks packed tarballs (`scripts/pack.mjs`) the way a user would meet them, before anyone
 * publishes them (docs/releasing.md). For each tarball:
 *
 * - every path its manifest names in `exports` (every condition), `main`, `module`, `types`,
 *   `typings`, `bin` and `customElements` is in the tarball;
 * - no `workspace:` (nor `link:`/`file:`) anywhere in the manifest, and every
 *   `@live-device-form/*` dependency is the exact version of that package;
 * - `LICENSE` (MIT, as `license` says), `README.md` and `engines.node` are there;
 * - no test file (`*.test.*`, `*.spec.*`) and nothing of the test harness (a `test/`, `e2e/`,
 *   `fixtures/` or `harness/` folder; `@live-device-form/testkit` named in the manifest);
 * - the entry points that exist for their side effects (the element's bundle and its registration
 *   module) are kept by `sideEffects`, so a bundler does not tree-shake them away.
 *
 * Across tarballs: the server's copy of the element bundle (`dist/assets/`, served by the CLI) is
 * byte for byte the element's, and names the element's version.
 *
 * Usage: node scripts/check-packs.mjs [TARBALL…]   (default: those in .artifacts/packs/packs.json)
 * Prints one line per tarball; exits 1 after listing every problem found.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Entry points (export keys) loaded only for what they do when imported: `sideEffects` must keep them. */
export const SIDE_EFFECT_ENTRIES = Object.freeze({
  '@live-device-form/element': ['.', './define.js', './bundle.js'],
});

const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?(\.map)?$|\.(test|spec)\.d\.[cm]?ts(\.map)?$/;
const HARNESS_DIR = /(^|\/)(test|tests|__tests__|e2e|fixtures|harness|testkit)\//;

/** Every file in `dir`, as `./a/b.js` paths. */
function listFiles(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, base));
    else out.push(`./${relative(base, path).split('\\').join('/')}`);
  }
  return out;
}

/** `./x` for `x`, `./x` for `./x`. */
const normal = (path) => (path.startsWith('./') ? path : `./${path.replace(/^\/+/, '')}`);

/** The targets of an `exports` value, with where each is named. */
function exportTargets(value, where) {
  if (typeof value === 'string') return [{ where, path: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => exportTargets(v, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => exportTargets(v, `${where}[${JSON.stringify(k)}]`));
  }
  return []; // null: a blocked subpath
}

/** Whether a `sideEffects` glob list keeps `file` (bundlers match `./x`, `x` and `*` globs alike). */
function keptBy(sideEffects, file) {
  if (sideEffects === undefined || sideEffects === true) return true;
  if (!Array.isArray(sideEffects)) return false;
  return sideEffects.some((pattern) => {
    const glob = normal(pattern);
    if (!glob.includes('*')) return glob === file;
    const re = new RegExp(
      `^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?|\*/g, (m) => (m === '*' ? '[^/]*' : '.*'))}$`,
    );
    return re.test(file);
  });
}

/** Whether `path` (possibly with one `*`, an exports pattern) matches a file of the tarball. */
function present(files, path) {
  const p = normal(path);
  if (!p.includes('*')) return files.has(p);
  const [head, tail] = p.split('*');
  return [...files].some((f) => f.startsWith(head) && f.endsWith(tail));
}

/**
 * Checks one unpacked tarball (`dir` holds `package/`). Returns the manifest, the file list and
 * the problems found (empty when it is fine).
 */
export function checkUnpacked(dir) {
  const root = join(dir, 'package');
  const problems = [];
  if (!existsSync(join(root, 'package.json'))) return { problems: ['no package/package.json in the tarball'] };
  const text = readFileSync(join(root, 'package.json'), 'utf8');
  const pkg = JSON.parse(text);
  const files = new Set(listFiles(root));

  const named = [];
  if (pkg.exports !== undefined) named.push(...exportTargets(pkg.exports, 'exports'));
  for (const field of ['main', 'module', 'types', 'typings', 'customElements']) {
    if (typeof pkg[field] === 'string') named.push({ where: field, path: pkg[field] });
  }
  if (typeof pkg.bin === 'string') named.push({ where: 'bin', path: pkg.bin });
  else if (pkg.bin) for (const [k, v] of Object.entries(pkg.bin)) named.push({ where: `bin.${k}`, path: v });
  for (const { where, path } of named) {
    if (!present(files, path)) problems.push(`${where} names ${path}, which is not in the tarball`);
  }

  for (const protocol of ['workspace:', 'link:', 'file:']) {
    if (text.includes(protocol)) problems.push(`the manifest still says "${protocol}" (pack with pnpm pack)`);
  }
  if (text.includes('@live-device-form/testkit')) {
    problems.push('the manifest names the test harness @live-device-form/testkit');
  }

  if (pkg.license !== 'MIT') problems.push(`license is ${JSON.stringify(pkg.license)}, not "MIT"`);
  const license = files.has('./LICENSE') ? readFileSync(join(root, 'LICENSE'), 'utf8') : '';
  if (!license) problems.push('no LICENSE file');
  else if (!license.includes('MIT License')) problems.push('LICENSE is not the MIT licence');
  if (!files.has('./README.md')) problems.push('no README.md');
  if (typeof pkg.engines?.node !== 'string') problems.push('no engines.node');

  for (const f of files) {
    if (TEST_FILE.test(f)) problems.push(`test file ${f}`);
    else if (HARNESS_DIR.test(f.slice(1))) problems.push(`test harness file ${f}`);
  }

  for (const key of SIDE_EFFECT_ENTRIES[pkg.name] ?? []) {
    const target = exportTargets(pkg.exports?.[key], key).find((t) => /\.m?js$/.test(t.path));
    if (target === undefined) problems.push(`exports["${key}"] names no JavaScript file`);
    else if (!keptBy(pkg.sideEffects, normal(target.path))) {
      problems.push(
        `sideEffects does not keep ${target.path} (exports["${key}"]): a bundler would drop \`import '${pkg.name}${key.slice(1)}'\``,
      );
    }
  }
  return { pkg, files, problems };
}

/** Checks what only a set of tarballs can show: exact internal versions, the server's copy of the bundle. */
export function checkAcross(unpacked) {
  const problems = [];
  const byName = new Map(unpacked.filter((u) => u.pkg).map((u) => [u.pkg.name, u]));
  for (const u of byName.values()) {
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [dep, range] of Object.entries(u.pkg[field] ?? {})) {
        const other = byName.get(dep);
        if (other && range !== other.pkg.version) {
          problems.push(`${u.pkg.name}: ${field}.${dep} is "${range}", not ${other.pkg.version} (packed together)`);
        }
      }
    }
  }
  const server = byName.get('@live-device-form/server');
  const element = byName.get('@live-device-form/element');
  if (server) {
    const asset = join(server.dir, 'package/dist/assets/live-device-form.bundle.js');
    const meta = join(server.dir, 'package/dist/assets/live-device-form.bundle.json');
    if (!existsSync(asset) || !existsSync(meta)) {
      problems.push(
        '@live-device-form/server: no dist/assets/live-device-form.bundle.js(on): the CLI serves no bundle',
      );
    } else if (element) {
      const built = join(element.dir, 'package/dist/live-device-form.bundle.js');
      if (!existsSync(built) || !readFileSync(asset).equals(readFileSync(built))) {
        problems.push("@live-device-form/server: dist/assets/live-device-form.bundle.js is not the element's bundle");
      }
      // Every language the bundle loads from beside itself (`./locales/<lang>.js`) is served too.
      const locales = join(element.dir, 'package/dist/locales');
      for (const file of existsSync(locales) ? readdirSync(locales) : []) {
        if (!/^[\w-]+\.js$/.test(file) || file === 'en.js') continue;
        if (!existsSync(join(server.dir, 'package/dist/assets/locales', file))) {
          problems.push(
            `@live-device-form/server: no dist/assets/locales/${file}: the bundle's ${file} would be a 404`,
          );
        }
      }
      const { version } = JSON.parse(readFileSync(meta, 'utf8'));
      if (version !== element.pkg.version) {
        problems.push(
          `@live-device-form/server: its bundle says element ${version}, the element is ${element.pkg.version}`,
        );
      }
    }
  }
  return problems;
}

/** Unpacks and checks `tarballs`; prints a line each; returns whether all passed. */
export function checkPacks(tarballs) {
  const unpacked = [];
  let ok = true;
  for (const tarball of tarballs) {
    const dir = mkdtempSync(join(tmpdir(), 'ldf-check-pack-'));
    try {
      execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    } catch (err) {
      console.log(`✗ ${tarball}: cannot unpack: ${err.message}`);
      ok = false;
      continue;
    }
    const result = { dir, tarball, ...checkUnpacked(dir) };
    unpacked.push(result);
    const label = result.pkg ? `${result.pkg.name}@${result.pkg.version}` : tarball;
    if (result.problems.length === 0) console.log(`✓ ${label}: ${result.files.size} files`);
    else {
      ok = false;
      console.log(`✗ ${label} (${tarball}):`);
      for (const p of result.problems) console.log(`    ${p}`);
    }
  }
  const across = checkAcross(unpacked);
  for (const p of across) console.log(`✗ ${p}`);
  for (const u of unpacked) rmSync(u.dir, { recursive: true, force: true });
  return ok && across.length === 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let tarballs = process.argv.slice(2);
  if (tarballs.length === 0) {
    const list = fileURLToPath(new URL('../.artifacts/packs/packs.json', import.meta.url));
    if (!existsSync(list)) {
      console.error(
        'check-packs: no tarballs given and no .artifacts/packs/packs.json: run node scripts/pack.mjs first',
      );
      process.exit(2);
    }
    tarballs = Object.values(JSON.parse(readFileSync(list, 'utf8')));
  }
  process.exit(checkPacks(tarballs) ? 0 : 1);
}

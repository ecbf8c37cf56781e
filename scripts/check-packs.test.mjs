/**
 * scripts/check-packs.mjs on tarballs made here: a sound one passes, and each defect a packed
 * package has had (or could have) is named and fails the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('./check-packs.mjs', import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), 'ldf-check-packs-test-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

const MIT = 'MIT License\n\nCopyright (c) 2026 live-device-form contributors\n';
let made = 0;

/** Writes `files` (path → content; `package.json` as an object) under `package/` and tars them. */
function tarball(files) {
  const dir = join(WORK, `t${++made}`);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, 'package', path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  const file = join(WORK, `t${made}.tgz`);
  const r = spawnSync('tar', ['-czf', file, '-C', dir, 'package']);
  if (r.status !== 0) throw new Error(String(r.stderr));
  return file;
}

function check(...tarballs) {
  const r = spawnSync(process.execPath, [SCRIPT, ...tarballs], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** A sound protocol-like package; `over` replaces manifest fields, `files` adds or (undefined) removes files. */
function sound(over = {}, files = {}) {
  const all = {
    'package.json': {
      name: '@live-device-form/protocol',
      version: '0.1.0',
      license: 'MIT',
      type: 'module',
      exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' },
      main: './dist/index.js',
      types: './dist/index.d.ts',
      engines: { node: '>=20.19' },
      ...over,
    },
    LICENSE: MIT,
    'README.md': '# protocol\n',
    'dist/index.js': 'export {};\n',
    'dist/index.d.ts': 'export {};\n',
    ...files,
  };
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
  return tarball(all);
}

describe('scripts/check-packs.mjs', () => {
  it('passes a sound tarball', () => {
    const r = check(sound());
    expect(r.out).toContain('✓ @live-device-form/protocol@0.1.0');
    expect(r.code).toBe(0);
  });

  it('fails a path named in exports, types, bin or customElements that is not in the tarball', () => {
    const r = check(
      sound({
        exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './bundle.js': './dist/bundle.js' },
        types: './dist/missing.d.ts',
        bin: { tool: './bin/tool.js' },
        customElements: 'custom-elements.json',
      }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('exports["./bundle.js"] names ./dist/bundle.js, which is not in the tarball');
    expect(r.out).toContain('types names ./dist/missing.d.ts');
    expect(r.out).toContain('bin.tool names ./bin/tool.js');
    expect(r.out).toContain('customElements names custom-elements.json');
  });

  it('fails workspace: in the manifest and the test harness named in it', () => {
    const r = check(
      sound({
        dependencies: { '@live-device-form/other': 'workspace:*' },
        devDependencies: { '@live-device-form/testkit': '0.0.0' },
      }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('the manifest still says "workspace:"');
    expect(r.out).toContain('the manifest names the test harness @live-device-form/testkit');
  });

  it('fails without LICENSE, README.md or engines, or with a licence that is not MIT', () => {
    const r = check(sound({ engines: undefined }, { LICENSE: undefined, 'README.md': undefined }));
    expect(r.code).toBe(1);
    expect(r.out).toContain('no LICENSE file');
    expect(r.out).toContain('no README.md');
    expect(r.out).toContain('no engines.node');
    const other = check(sound({ license: 'ISC' }, { LICENSE: 'ISC License\n' }));
    expect(other.out).toContain('license is "ISC", not "MIT"');
    expect(other.out).toContain('LICENSE is not the MIT licence');
  });

  it('fails test files and test harness files', () => {
    const r = check(
      sound({}, { 'dist/index.test.js': '', 'src/store.test.ts': '', 'test/fakes.ts': '', 'dist/harness/page.js': '' }),
    );
    expect(r.code).toBe(1);
    for (const f of ['./dist/index.test.js', './src/store.test.ts']) expect(r.out).toContain(`test file ${f}`);
    for (const f of ['./test/fakes.ts', './dist/harness/page.js']) expect(r.out).toContain(`test harness file ${f}`);
  });

  it('fails an element whose sideEffects would let a bundler drop its bundle or its registration module', () => {
    const element = (sideEffects) =>
      sound(
        {
          name: '@live-device-form/element',
          exports: {
            '.': { types: './dist/index.d.ts', import: './dist/index.js' },
            './define.js': './dist/define.js',
            './bundle.js': './dist/live-device-form.bundle.js',
          },
          sideEffects,
        },
        { 'dist/define.js': '', 'dist/live-device-form.bundle.js': '' },
      );
    const before = check(element(['./dist/define.js', './dist/index.js']));
    expect(before.code).toBe(1);
    expect(before.out).toContain(
      'sideEffects does not keep ./dist/live-device-form.bundle.js (exports["./bundle.js"]): a bundler would drop `import \'@live-device-form/element/bundle.js\'`',
    );
    expect(check(element(false)).out).toContain('sideEffects does not keep ./dist/define.js');
    expect(check(element(['./dist/*.js'])).code).toBe(0);
    expect(check(element(['./dist/define.js', './dist/index.js', './dist/live-device-form.bundle.js'])).code).toBe(0);
  });

  it("fails a server whose copy of the element bundle is not the element's, or names another version", () => {
    const element = sound(
      {
        name: '@live-device-form/element',
        version: '0.2.0',
        sideEffects: true,
        exports: {
          '.': './dist/index.js',
          './define.js': './dist/index.js',
          './bundle.js': './dist/live-device-form.bundle.js',
        },
      },
      { 'dist/live-device-form.bundle.js': 'customElements.define("live-device-form", X);' },
    );
    const server = (code, version) =>
      sound(
        { name: '@live-device-form/server', version: '0.2.0' },
        {
          'dist/assets/live-device-form.bundle.js': code,
          'dist/assets/live-device-form.bundle.json': JSON.stringify({ version }),
        },
      );
    expect(check(server('customElements.define("live-device-form", X);', '0.2.0'), element).code).toBe(0);
    const stale = check(server('old', '0.1.0'), element);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain("dist/assets/live-device-form.bundle.js is not the element's bundle");
    expect(stale.out).toContain('its bundle says element 0.1.0, the element is 0.2.0');
    const none = check(sound({ name: '@live-device-form/server' }));
    expect(none.out).toContain('the CLI serves no bundle');
  });

  it('fails an internal dependency that is not the exact version packed beside it', () => {
    const protocol = sound({ version: '0.2.0' });
    const element = sound({
      name: '@live-device-form/other',
      dependencies: { '@live-device-form/protocol': '^0.1.0' },
    });
    const r = check(protocol, element);
    expect(r.code).toBe(1);
    expect(r.out).toContain('dependencies.@live-device-form/protocol is "^0.1.0", not 0.2.0');
  });
});

/**
 * The bundle's per-part sizes (scripts/parts.mjs) and the source map they rest on
 * (`collapseWithMap` in scripts/bundle.mjs). Run with `node --test` (the element's `test`), after
 * `tsc -b`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { bundle, collapseTemplateWhitespace, collapseWithMap, pkgDir } from './bundle.mjs';
import { bundleParts, partOf, runsOf } from './parts.mjs';

describe('collapseWithMap', () => {
  it('collapses as collapseTemplateWhitespace does and moves each mapping to where its byte went', () => {
    // Line 0: `a=x`<div>` (a template literal), line 1: `  <b>y</b>`;b(1)`.
    const code = 'a=x`<div>\n  <b>y</b>\n   `;b(1)';
    const sources = ['/s/one.ts', '/s/two.ts'];
    // Mappings at `a` (one.ts) and at `b(1)` (two.ts), which sits on line 2, column 5.
    const map = { version: 3, sources, names: [], mappings: encode([[[0, 0, 0, 0]], [], [[5, 1, 0, 0]]]) };
    const out = collapseWithMap(code, map);
    assert.equal(out.code, collapseTemplateWhitespace(code));
    assert.equal(out.code, 'a=x`<div><b>y</b> `;b(1)');
    const [line] = decode(out.map.mappings);
    assert.deepEqual(
      line.map((s) => [s[0], s[1]]),
      [
        [0, 0],
        [out.code.indexOf('b(1)'), 1],
      ],
    );
  });
});

describe('runsOf', () => {
  it('gives each mapping the bytes up to the next, merges runs of one part, and calls unmapped bytes glue', () => {
    const code = 'import"lit";AAAABBBBCCCC';
    const sources = ['/x/packages/element/src/connection.ts', '/x/packages/element/src/gestures.ts'];
    // 0: unmapped (glue); 12: connection; 16: connection again; 20: gestures.
    const mappings = encode([[[0], [12, 0, 0, 0], [16, 0, 1, 0], [20, 1, 0, 0]]]);
    assert.deepEqual(runsOf(code, { sources, mappings }), [
      { part: 'glue', text: 'import"lit";' },
      { part: 'connection', text: 'AAAABBBB' },
      { part: 'gestures', text: 'CCCC' },
    ]);
  });

  it("places a mapping of a later line at that line's offset (template literals hold line breaks)", () => {
    const sources = ['/x/packages/element/src/connection.ts', '/x/packages/element/src/gestures.ts'];
    const mappings = encode([[[0, 0, 0, 0]], [[2, 1, 0, 0]]]);
    assert.deepEqual(runsOf('AAAA\nBBBB', { sources, mappings }), [
      { part: 'connection', text: 'AAAA\nBB' },
      { part: 'gestures', text: 'BB' },
    ]);
  });

  it('puts every source file of the element and the protocol in a named part', () => {
    for (const file of [
      'protocol/src/parse.ts',
      'protocol/src/values.ts',
      'protocol/src/backoff.ts',
      'element/src/fields/render.ts',
      'element/src/locales/en.ts',
      'element/src/live-device-form.styles.ts',
      'element/src/live-device-form.ts',
    ]) {
      assert.notEqual(partOf(`/w/packages/${file}`), 'other', file);
    }
    assert.equal(partOf('/w/packages/element/src/live-device-form.styles.ts'), 'styles');
    assert.equal(partOf('/w/node_modules/.pnpm/lit-html@3/node_modules/lit-html/src/lit-html.ts'), 'Lit');
  });
});

describe('bundleParts', () => {
  for (const withLit of [false, true]) {
    it(`traces every byte of the bundle ${withLit ? 'with' : 'without'} Lit, and the parts add up to it`, async (t) => {
      if (!existsSync(`${pkgDir}dist/index.js`)) {
        t.skip('not built: run `tsc -b` first');
        return;
      }
      const code = await bundle({ withLit });
      const { min, gz, parts } = await bundleParts({ withLit });
      assert.equal(min, code.length);
      assert.equal(gz, gzipSync(code, { level: 9 }).length);
      assert.equal(
        parts.reduce((n, p) => n + p.min, 0),
        min,
      );
      assert.equal(
        parts.reduce((n, p) => n + p.gz, 0),
        gz,
      );
      const names = parts.map((p) => p.part);
      assert.ok(!names.includes('other'), `a source in no part: ${names.join(', ')}`);
      for (const name of ['parser', 'connection', 'element', 'styles', 'English words', 'localisation layer']) {
        assert.ok(names.includes(name), name);
      }
      assert.equal(names.includes('Lit'), withLit);
      // Glue is the `import … from "lit"` line and the gzip header, nothing of size.
      assert.ok((parts.find((p) => p.part === 'glue')?.min ?? 0) < 200);
    });
  }
});

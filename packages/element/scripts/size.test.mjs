/**
 * The bundle's no-growth guard (BENCHMARKS.md figure 6): the budget of 8 / 15 KiB min+gzip
 * (without / with Lit) is missed knowingly, and until it is revisited the bundle may not grow past
 * today's size plus a small margin. A change that needs more says so by raising the ceiling here,
 * with its bytes in the CHANGELOG. Run with `node --test` (the element's `test`), after `tsc -b`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { bundle } from './bundle.mjs';

const KiB = 1024;
/**
 * min+gzip ceilings: 14.26 / 19.38 KiB on 2026-11-30 with action fields and help text (issue 16:
 * +0.34 / +0.35 KiB over main, whose 13.92 / 19.03 KiB had already passed the old 19 KiB ceiling
 * with Lit), plus about 0.6 KiB.
 */
const CEILING = { withoutLit: 14.875 * KiB, withLit: 20 * KiB };

describe('bundle size', () => {
  for (const [label, withLit, ceiling] of [
    ['without Lit', false, CEILING.withoutLit],
    ['with Lit', true, CEILING.withLit],
  ]) {
    it(`stays under its ceiling ${label} (${ceiling / KiB} KiB min+gzip)`, async () => {
      const gz = gzipSync(await bundle({ withLit }), { level: 9 }).length;
      assert.ok(gz <= ceiling, `${label}: ${(gz / KiB).toFixed(2)} KiB min+gzip is over ${ceiling / KiB} KiB`);
    });
  }
});

/**
 * Prints the element's bundle size, min+gzip (-9), with and without Lit, against the budget
 * (BENCHMARKS.md, "Targets: met and not met": ≤ 8 KiB without Lit, ≤ 15 KiB with). Bundles the
 * compiled `dist/` (run `tsc -b` first; `pnpm run size` does). With `--strict` it exits 1 when
 * over budget. Then the size of each shipped locale's module (`dist/locales/<lang>.js`), which is
 * not in the bundle and is fetched only by a page that shows that language.
 */
import { gzipSync } from 'node:zlib';
import { bundle, bundleLocale } from './bundle.mjs';

const KiB = 1024;
const rows = [];
for (const [label, withLit, budget] of [
  ['without Lit', false, 8 * KiB],
  ['with Lit', true, 15 * KiB],
]) {
  const code = await bundle({ withLit });
  const gz = gzipSync(code, { level: 9 }).length;
  rows.push({ label, min: code.length, gz, budget, ok: gz <= budget });
}
for (const r of rows) {
  console.log(
    `${r.label.padEnd(12)} min ${(r.min / KiB).toFixed(1).padStart(5)} KiB   min+gzip ${(r.gz / KiB).toFixed(2)} KiB   budget ${(r.budget / KiB).toFixed(0)} KiB   ${r.ok ? 'ok' : 'OVER BUDGET'}`,
  );
}
for (const lang of ['de']) {
  const code = await bundleLocale(lang);
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(
    `${`locale ${lang}`.padEnd(12)} min ${(code.length / KiB).toFixed(1).padStart(5)} KiB   min+gzip ${(gz / KiB).toFixed(2)} KiB   (loaded on demand)`,
  );
}
if (process.argv.includes('--strict') && rows.some((r) => !r.ok)) process.exitCode = 1;

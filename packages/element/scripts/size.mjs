/**
 * Prints the element's bundle size, min+gzip (-9), with and without Lit, against the budget
 * (BENCHMARKS.md, "Targets: met and not met": ≤ 8 KiB without Lit, ≤ 15 KiB with). Bundles the
 * compiled `dist/` (run `tsc -b` first; `pnpm run size` does). With `--strict` it exits 1 when
 * over budget. Then the size of each shipped locale's module (`dist/locales/<lang>.js`), which is
 * not in the bundle and is fetched only by a page that shows that language.
 *
 * With `--parts`, also what each part of each bundle costs (parser, connection, fields, words,
 * styles, …), min and min+gzip: see scripts/parts.mjs for how the gzip bytes are attributed.
 *
 * Usage: node scripts/size.mjs [--strict] [--parts]
 */
import { gzipSync } from 'node:zlib';
import { bundle, bundleLocale } from './bundle.mjs';
import { bundleParts } from './parts.mjs';

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
if (process.argv.includes('--parts')) {
  for (const withLit of [false, true]) {
    const { min, gz, parts } = await bundleParts({ withLit });
    console.log(
      `\nparts ${withLit ? 'with' : 'without'} Lit (bytes; gzip: added to what comes before it in the bundle, and alone)`,
    );
    console.log(`${'part'.padEnd(24)} ${'min'.padStart(6)} ${'gzip'.padStart(6)} ${'alone'.padStart(6)}   share`);
    for (const p of parts) {
      console.log(
        `${p.part.padEnd(24)} ${String(p.min).padStart(6)} ${String(p.gz).padStart(6)} ${String(p.alone).padStart(6)}   ${((100 * p.gz) / gz).toFixed(1).padStart(5)} %`,
      );
    }
    console.log(`${'total'.padEnd(24)} ${String(min).padStart(6)} ${String(gz).padStart(6)}`);
  }
}
if (process.argv.includes('--strict') && rows.some((r) => !r.ok)) process.exitCode = 1;

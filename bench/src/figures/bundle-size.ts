/**
 * Figure 6: the element's bundle, minified and gzipped (-9), with and without Lit — made by the
 * element's own `scripts/bundle.mjs`, exactly as `scripts/size.mjs` measures it. Baseline: the
 * smallest useful Lit element (one reactive property rendered into an `<output>`), bundled with the
 * same esbuild settings: what any Lit element costs before it does anything. `extra.parts` is what
 * each part of the bundle costs (`node packages/element/scripts/size.mjs --parts`; how gzip bytes
 * are attributed: packages/element/scripts/parts.mjs).
 * @module
 */
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { BenchContext, FigureOutput } from '../context.js';
import { ROOT, elementBundler } from '../prepare.js';
import { BENCH_DIR } from '../proc.js';
import { type Figure, ratio } from '../results.js';
import { round } from '@live-device-form/testkit';

const KiB = 1024;

const BASELINE_ELEMENT = `
import { LitElement, html } from 'lit';
class HelloValue extends LitElement {
  static properties = { value: {} };
  render() { return html\`<output>\${this.value}</output>\`; }
}
customElements.define('hello-value', HelloValue);
`;

async function baselineBundle(withLit: boolean): Promise<string> {
  const result = await esbuild.build({
    stdin: { contents: BASELINE_ELEMENT, resolveDir: BENCH_DIR, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    external: withLit ? [] : ['lit', 'lit/*', '@lit/*'],
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return result.outputFiles[0]?.text ?? '';
}

/** One part of the bundle, in bytes (packages/element/scripts/parts.mjs). */
interface BundlePart {
  part: string;
  min: number;
  gz: number;
  alone: number;
}

/** The element's `scripts/parts.mjs`. */
interface PartsModule {
  bundleParts(options: { withLit: boolean }): Promise<{ min: number; gz: number; parts: BundlePart[] }>;
}

async function partsModule(): Promise<PartsModule> {
  return (await import(pathToFileURL(`${ROOT}packages/element/scripts/parts.mjs`).href)) as PartsModule;
}

const gz = (code: string): number => gzipSync(code, { level: 9 }).length;

export async function bundleSize(_ctx: BenchContext): Promise<FigureOutput> {
  const bundler = await elementBundler();
  const { bundleParts } = await partsModule();
  const figures: Figure[] = [];
  for (const [withLit, budget] of [
    [true, 15],
    [false, 8],
  ] as const) {
    const code = await bundler.bundle({ withLit });
    const base = await baselineBundle(withLit);
    const size = gz(code) / KiB;
    const baseSize = gz(base) / KiB;
    const { parts } = await bundleParts({ withLit });
    figures.push({
      id: `bundle/${withLit ? 'with-lit' : 'without-lit'}`,
      figure: 6,
      name: `Element bundle, min+gzip, ${withLit ? 'Lit included' : 'Lit external'}`,
      value: round(size),
      unit: 'KiB',
      baseline: round(baseSize),
      ratio: ratio(size, baseSize),
      better: 'lower',
      target: `≤ ${budget} KiB`,
      met: size <= budget,
      notes: `minified ${round(code.length / KiB)} KiB; baseline: a one-property Lit element, same esbuild settings (minified ${round(base.length / KiB)} KiB). extra.parts: bytes per part, min and gzip (each part's gzip bytes are what it adds to the gzipped bundle before it; they add up to the total; alone: the part gzipped by itself).`,
      extra: { parts },
    });
  }
  return { figures };
}

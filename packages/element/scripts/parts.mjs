/**
 * What each part of the element's bundle costs, for `node scripts/size.mjs --parts` and the bench's
 * bundle figure (`extra.parts`).
 *
 * Every byte of the bundle is traced to the source file it came from through the source map of the
 * bundle (esbuild's, which follows the compiled files' own maps back to `src/*.ts`, carried through
 * the whitespace collapse and terser); bytes no source claims (the `import … from "lit"` line, the
 * bundler's glue) are `glue`. Each file belongs to one part
 * (`PARTS`). Then two gzip figures per part:
 *
 * - `gz`: its bytes in the bundle. The bundle is cut into runs of one part each, in bundle order,
 *   and a run costs what it adds to the gzipped size of everything before it:
 *   gzip(code up to the run's end) − gzip(code up to its start). The costs add up to the bundle's
 *   gzipped size exactly. A part pays less for words and code shapes already seen earlier in the
 *   bundle (esbuild puts a module's dependencies first: protocol, then connection, …, the element
 *   last), as the real download does. The first run also pays gzip's 18 bytes of header and trailer.
 * - `alone`: its runs gzipped by themselves: what the part would weigh with nothing to share.
 *
 * Usage: `import { bundleParts } from './parts.mjs'`, after `tsc -b`.
 */
import { dirname, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decode } from '@jridgewell/sourcemap-codec';
import { build, bundle, finish } from './bundle.mjs';

/**
 * The parts, each by the source paths it owns (matched against the absolute paths of the source
 * map's sources, `/` separated). The first match wins; what matches none is `other`.
 */
export const PARTS = [
  ['parser', /protocol\/(src|dist)\/(parse|frames|limits)\.[jt]s$/],
  ['value checks', /protocol\/(src|dist)\/values\.[jt]s$/],
  ['connection', /element\/(src|dist)\/connection\.[jt]s$|protocol\/(src|dist)\/backoff\.[jt]s$/],
  ['field model', /element\/(src|dist)\/fields\/field-model\.[jt]s$/],
  ['rendered fields', /element\/(src|dist)\/fields\/render\.[jt]s$/],
  ['control binding', /element\/(src|dist)\/fields\/bind\.[jt]s$/],
  ['bound notes', /element\/(src|dist)\/fields\/bound-notes\.[jt]s$/],
  ['notes and status words', /element\/(src|dist)\/fields\/messages\.[jt]s$/],
  ['gestures', /element\/(src|dist)\/gestures\.[jt]s$/],
  ['element', /element\/(src|dist)\/(live-device-form|events|define|index)\.[jt]s$/],
  ['English words', /element\/(src|dist)\/locales\/en\.[jt]s$/],
  ['localisation layer', /element\/(src|dist)\/localize\.[jt]s$/],
  ['styles', /element\/(src|dist)\/live-device-form\.styles\.[jt]s$/],
  ['Lit', /node_modules\/(lit|lit-html|lit-element|@lit\/[\w-]+)\//],
];

/** The part a source path belongs to. */
export function partOf(source) {
  const path = source.replaceAll('\\', '/');
  return PARTS.find(([, re]) => re.test(path))?.[0] ?? 'other';
}

const gz = (text) => (text ? gzipSync(text, { level: 9 }).length : 0);

/**
 * Cuts esbuild's output into runs of one part each: a mapping segment claims the bytes from its
 * position to the next segment's (across line breaks, which only template literals hold).
 * @returns {{ part: string; text: string }[]}
 */
export function runsOf(code, map) {
  const parts = map.sources.map((source) => partOf(source));
  const lineStarts = [0];
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const marks = [];
  decode(map.mappings).forEach((segments, line) => {
    for (const s of segments) marks.push([lineStarts[line] + s[0], s.length > 1 ? parts[s[1]] : 'glue']);
  });
  marks.sort((a, b) => a[0] - b[0]);
  if (!marks.length || marks[0][0] > 0) marks.unshift([0, 'glue']);
  const runs = [];
  marks.forEach(([start, part], i) => {
    const text = code.slice(start, marks[i + 1]?.[0] ?? code.length);
    const last = runs[runs.length - 1];
    if (last?.part === part) last.text += text;
    else if (text) runs.push({ part, text });
  });
  return runs;
}

/**
 * The bundle's parts and what each costs (see the module's doc for how gzip bytes are attributed).
 * @returns {Promise<{ min: number; gz: number; parts: { part: string; min: number; gz: number; alone: number }[] }>}
 *   bytes; `parts` from the dearest, their `min` and `gz` adding up to the totals
 */
export async function bundleParts({ withLit = true } = {}) {
  const result = await build({ withLit, sourcemap: true });
  const mapFile = result.outputFiles.find((f) => f.path.endsWith('.map'));
  const esbuildMap = JSON.parse(mapFile.text);
  // Sources as absolute paths, so that the parts are matched whatever the map's paths are relative to.
  esbuildMap.sources = esbuildMap.sources.map((source) => resolve(dirname(mapFile.path), source));
  const { code, map } = await finish(result.outputFiles.find((f) => f.path.endsWith('.js')).text, esbuildMap);
  if (code !== (await bundle({ withLit }))) throw new Error('parts: not the bundle that bundle() makes');
  const runs = runsOf(code, map);
  const byPart = new Map();
  let prefix = '';
  let before = 0;
  for (const r of runs) {
    prefix += r.text;
    const after = gz(prefix);
    const p = byPart.get(r.part) ?? { part: r.part, min: 0, gz: 0, text: '' };
    p.min += r.text.length;
    p.gz += after - before;
    p.text += r.text;
    byPart.set(r.part, p);
    before = after;
  }
  const parts = [...byPart.values()]
    .map(({ part, min, gz: g, text }) => ({ part, min, gz: g, alone: gz(text) }))
    .sort((a, b) => b.gz - a.gz);
  return { min: code.length, gz: gz(code), parts };
}

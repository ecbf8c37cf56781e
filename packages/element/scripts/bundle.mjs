/**
 * Bundles the element with esbuild for a single `<script type="module">`, minified, with the
 * whitespace inside `html` and `css` template literals collapsed (esbuild leaves template literal
 * contents alone), then compressed once more by terser (`TERSER`; about 2 % smaller gzipped than
 * esbuild's minifier alone). It bundles the compiled `dist/`, exactly what npm consumers get (the
 * element declares its reactive properties in `static properties`, so tsc emits no decorator
 * helpers), so run `tsc -b` first. Used by `build` (dist/live-device-form.bundle.js, Lit included)
 * and by `scripts/size.mjs`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import * as esbuild from 'esbuild';
import { minify } from 'terser';

export const pkgDir = fileURLToPath(new URL('..', import.meta.url));

/** Collapses formatting whitespace in the css`` literals of our own sources. */
export function minifyCss(source) {
  return source.replace(
    /\bcss\s*`([^`]*)`/g,
    (_, body) =>
      'css`' +
      body
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\s+/g, ' ')
        .replace(/\s*([{}:;,>])\s*/g, '$1')
        .replace(/;}/g, '}')
        // [part~='field'] → [part~=field]: quotes are optional around an identifier.
        .replace(/(\[[\w-]+[~$^*|]?=)'([A-Za-z_-][\w-]*)'\]/g, '$1$2]')
        // 0.9em → .9em
        .replace(/([\s:(,])0\.(\d)/g, '$1.$2')
        .trim() +
      '`',
  );
}

/**
 * After minification the only raw line breaks left are inside template literals, where they are
 * formatting of html`` templates (no <pre> or <textarea> content in ours): drop them.
 */
export function collapseTemplateWhitespace(code) {
  return code.replace(/>\n\s*</g, '><').replace(/\n\s*/g, ' ');
}

/**
 * `collapseTemplateWhitespace` that also carries a source map of `code` over to the collapsed code
 * (every mapping moved to where its byte ends up). It checks that it made what
 * `collapseTemplateWhitespace` makes.
 * @returns {{ code: string; map: object }}
 */
export function collapseWithMap(code, map) {
  const where = new Int32Array(code.length + 1);
  let out = '';
  for (let i = 0; i < code.length;) {
    where[i] = out.length;
    if (code[i] !== '\n') {
      out += code[i++];
      continue;
    }
    let end = i + 1;
    while (end < code.length && /\s/.test(code[end])) where[end++] = out.length;
    // `>` newline whitespace `<` goes; any other newline and the whitespace after it is one space.
    if (!(code[i - 1] === '>' && code[end] === '<')) out += ' ';
    i = end;
  }
  where[code.length] = out.length;
  if (out !== collapseTemplateWhitespace(code))
    throw new Error('collapseWithMap: not what collapseTemplateWhitespace makes');
  const lineStarts = [0];
  for (let i = code.indexOf('\n'); i >= 0; i = code.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const line = [];
  decode(map.mappings).forEach((segments, l) => {
    for (const seg of segments) line.push([where[lineStarts[l] + seg[0]], ...seg.slice(1)]);
  });
  line.sort((a, b) => a[0] - b[0]);
  return { code: out, map: { ...map, mappings: encode([line]) } };
}

/** terser's settings for the last pass: its default (safe) compressions, twice, and names mangled. */
export const TERSER = Object.freeze({
  module: true,
  ecma: 2022,
  compress: { passes: 2 },
  mangle: true,
  format: { comments: false },
});

const literals = {
  name: 'minify-literals',
  setup(build) {
    build.onLoad({ filter: /[\\/]element[\\/]dist[\\/].*\.js$/ }, async (args) => ({
      contents: minifyCss(await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/**
 * Keeps each locale other than English out of the bundle (docs/element.md, "Languages"): the
 * element's `import('./locales/de.js')` stays a dynamic import of the module beside the bundle,
 * `dist/locales/de.js`, fetched only by a page that shows German.
 */
const localesApart = {
  name: 'locales-apart',
  setup(build) {
    build.onResolve({ filter: /[\\/]locales[\\/][\w-]+\.js$/ }, (args) =>
      args.kind === 'dynamic-import'
        ? { path: `./locales/${args.path.split(/[\\/]/).pop()}`, external: true }
        : undefined,
    );
  },
};

/**
 * Minifies one locale module as a page fetches it (`dist/locales/<lang>.js`), for `scripts/size.mjs`.
 * @returns {Promise<string>} the minified code
 */
export async function bundleLocale(lang) {
  const result = await esbuild.build({
    entryPoints: [`${pkgDir}dist/locales/${lang}.js`],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return (await minify(result.outputFiles[0].text, TERSER)).code;
}

/**
 * Runs esbuild on the element's entry; `withLit: false` leaves `lit` and its subpaths external
 * (what a page that already loads Lit pays). `sourcemap: true` adds the linked source map as a
 * second output file (for `scripts/parts.mjs`). The code is esbuild's, before
 * `collapseTemplateWhitespace` and terser (`finish`).
 * @returns {Promise<import('esbuild').BuildResult & { outputFiles: import('esbuild').OutputFile[] }>}
 */
export function build({ withLit = true, sourcemap = false, outfile } = {}) {
  return esbuild.build({
    entryPoints: [`${pkgDir}dist/index.js`],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    external: withLit ? [] : ['lit', 'lit/*', '@lit/*'],
    plugins: [literals, localesApart],
    write: false,
    outfile: outfile ?? `${pkgDir}dist/out.js`,
    sourcemap: sourcemap ? 'external' : false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/**
 * The last steps after esbuild: the whitespace of template literals collapsed, then terser. With
 * `map` (esbuild's source map), the returned map follows every byte back to the sources.
 * @returns {Promise<{ code: string; map?: object }>}
 */
export async function finish(code, map) {
  if (!map) return { code: (await minify(collapseTemplateWhitespace(code), TERSER)).code };
  const collapsed = collapseWithMap(code, map);
  const out = await minify(collapsed.code, {
    ...TERSER,
    sourceMap: { content: collapsed.map, asObject: true },
  });
  return { code: out.code, map: out.map };
}

/**
 * Bundles the element; `withLit: false` leaves `lit` and its subpaths external (what a page that
 * already loads Lit pays).
 * @returns {Promise<string>} the minified code
 */
export async function bundle({ withLit = true, outfile } = {}) {
  const result = await build({ withLit, outfile });
  const { code } = await finish(result.outputFiles.find((f) => f.path.endsWith('.js')).text);
  if (outfile) await writeFile(outfile, code);
  return code;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle({ withLit: true, outfile: `${pkgDir}dist/live-device-form.bundle.js` });
}

/**
 * A @web/test-runner plugin for test/manifest.test.ts: command `manifest:parts` builds the Custom
 * Elements Manifest in memory, with the analyzer arguments of the package's `build` script (so it
 * checks what `pnpm run build` ships, and writes nothing), and scans the element's sources for the
 * `part` attributes its templates render.
 *
 * Returns `{ documented, rendered }`: `documented` the `cssParts` names of `<live-device-form>` in
 * the manifest; `rendered` every token of every `part="…"` / `part=${…}` attribute in `src/`
 * (tests excluded), each `{ token, file }`, where a token holding `${…}` is a pattern (`note-${kind}`).
 */
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { cli } from '@custom-elements-manifest/analyzer/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The `cem analyze …` arguments of the package's build script, split as a shell would (quotes removed). */
async function analyzerArgs() {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const command = pkg.scripts.build.split('&&').find((c) => /^\s*cem analyze\b/.test(c));
  if (!command) throw new Error('the build script has no `cem analyze` step');
  const words = [...command.trim().matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
  return words.slice(1); // without `cem`
}

async function documentedParts() {
  const manifest = await cli({ argv: [...(await analyzerArgs()), '--quiet'], cwd: root, noWrite: true });
  const element = manifest.modules
    .flatMap((m) => m.declarations ?? [])
    .find((d) => d.customElement && d.tagName === 'live-device-form');
  if (!element) throw new Error('the manifest has no <live-device-form>');
  return (element.cssParts ?? []).map((p) => p.name);
}

/** The text of a `${…}` expression starting at `i` (just past `${`), braces balanced. */
function expression(source, i) {
  let depth = 1;
  for (let j = i; j < source.length; j++) {
    if (source[j] === '{') depth++;
    else if (source[j] === '}' && --depth === 0) return source.slice(i, j);
  }
  throw new Error('unbalanced ${ in a part attribute');
}

/** The tokens of one `part` attribute value: its string literals (quoted or template), split on spaces. */
function tokens(value) {
  const literals = value.startsWith('${')
    ? [...value.matchAll(/'([^']*)'|`((?:[^`$]|\$\{[^}]*\})*)`/g)].map((m) => m[1] ?? m[2])
    : [value];
  return literals.flatMap((l) => l.split(/\s+/)).filter(Boolean);
}

async function renderedParts() {
  const files = (await readdir(path.join(root, 'src'), { recursive: true })).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );
  const found = [];
  for (const file of files) {
    const source = await readFile(path.join(root, 'src', file), 'utf8');
    for (const m of source.matchAll(/\bpart=(?:"([^"]*)"|\$\{)/g)) {
      const value = m[1] ?? `\${${expression(source, m.index + m[0].length)}}`;
      for (const token of tokens(value)) found.push({ token, file: `src/${file}` });
    }
  }
  return found;
}

/** @returns {import('@web/test-runner').TestRunnerPlugin} */
export function manifestPlugin() {
  return {
    name: 'ldf-manifest',
    async executeCommand({ command }) {
      if (command !== 'manifest:parts') return undefined;
      return { documented: await documentedParts(), rendered: await renderedParts() };
    },
  };
}

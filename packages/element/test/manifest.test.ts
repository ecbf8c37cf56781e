/**
 * custom-elements.json documents every CSS part the element renders (and no other): the manifest
 * is built as `pnpm run build` builds it, the parts are read from the templates in `src/`
 * (test/harness/manifest.mjs).
 */
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { Note } from '../src/fields/field-model.js';

interface Parts {
  documented: string[];
  rendered: { token: string; file: string }[];
}

/**
 * What a note can say, and so its `note-${kind}` parts (render.ts): every `Note` kind (the
 * compiler fails here when one is added or removed) and `pending`.
 */
const NOTE_KINDS = {
  saving: true,
  sent: true,
  rejected: true,
  conflict: true,
  unconfirmed: true,
  invalid: true,
} satisfies Record<Note['kind'], true>;
const NOTE_PARTS = [...Object.keys(NOTE_KINDS), 'pending'].map((k) => `note-${k}`);

/** A rendered token as the part names it stands for: `note-${kind}` is every note kind's part. */
function expand(token: string): string[] {
  if (token === 'note-${kind}') return NOTE_PARTS;
  if (token.includes('${')) throw new Error(`a part name made at run time that this test cannot expand: ${token}`);
  return [token];
}

describe('custom-elements.json', () => {
  it('lists every part the templates render, each on its own, and no part they do not render', async () => {
    const { documented, rendered } = await executeServerCommand<Parts, Record<string, never>>('manifest:parts');
    expect(rendered.length, 'part attributes found in src/').to.be.greaterThan(10);
    const parts = [...new Set(rendered.flatMap((r) => expand(r.token)))].sort();
    expect([...documented].sort()).to.deep.equal(parts);
    // One `@csspart` per part: a line that names several would leave all but the first out.
    expect(
      documented.every((p) => /^[a-z-]+$/.test(p)),
      documented.join(', '),
    ).to.equal(true);
    expect(documented).to.include.members(['status-dot', 'note-conflict', 'keep-button', 'apply-button']);
  });
});

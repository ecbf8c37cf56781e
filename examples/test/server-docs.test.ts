/**
 * docs/server.md shows each backend example whole ("This is `examples/<app>/server.js`:"); the
 * consumer suite tests those files, so the snippets a reader copies are the ones that work.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('docs/server.md', () => {
  const docs = read('docs/server.md');
  for (const app of ['express', 'fastify', 'koa']) {
    it(`shows examples/${app}/server.js exactly as it is`, () => {
      const intro = `This is \`examples/${app}/server.js\`:\n\n\`\`\`js\n`;
      const start = docs.indexOf(intro);
      expect(start, `docs/server.md has no "${intro.trim()}" block`).toBeGreaterThan(-1);
      const body = docs.slice(start + intro.length, docs.indexOf('```\n', start + intro.length));
      expect(body).toBe(read(`examples/${app}/server.js`));
    });
  }
});

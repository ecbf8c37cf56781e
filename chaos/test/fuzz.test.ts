/**
 * The CI slice of the fuzzing (the full run: `pnpm run chaos --fuzz-runs 100000 --fuzz-only`): a
 * few hundred generated inputs per property, and proof that each kind of property can fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClientFrame } from '@live-device-form/protocol';
import { SCHEMA } from '@live-device-form/testkit';
import {
  FuzzServer,
  clientFrameInput,
  clientParserProperty,
  formatFuzzReport,
  protoSnapshot,
  runFuzz,
} from '../src/fuzz.js';

const snapshot = protoSnapshot;

/** Runs a failing property and returns the message of the error it found. */
async function failure(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return `${(err as Error).message}\n${cause instanceof Error ? cause.message : ''}`;
  }
  throw new Error('the property did not fail');
}

describe('fuzzing (CI slice)', () => {
  it('400 inputs per property: parsers, pattern decoder, a live server — no failure, no prototype touched', async () => {
    const before = snapshot();
    const report = await runFuzz({ runs: 400, seed: 20261127 });
    expect(report.failures, formatFuzzReport(report)).toEqual([]);
    expect(report.totalInputs).toBe(2000);
    expect(snapshot()).toBe(before);
  });
});

describe('the fuzz properties can fail', () => {
  it('a parser that drops a __proto__ key instead of refusing the frame is caught by the oracle', async () => {
    const lax: typeof parseClientFrame = (text) => {
      const r = parseClientFrame(text);
      if (r.ok || !r.message.includes('is not allowed') || typeof text !== 'string') return r;
      const o = JSON.parse(text) as Record<string, unknown>;
      for (const k of ['__proto__', 'constructor', 'prototype']) delete o[k];
      return parseClientFrame(JSON.stringify(o));
    };
    const message = await failure(() => fc.assert(clientParserProperty(lax), { numRuns: 2000, seed: 7 }));
    expect(message).toMatch(/oracle refuses, parser accepts|parser kept id/);
  });

  it('a server that lets invalid values reach the bridge is caught', async () => {
    // The device accepts any gain; the protocol oracle still holds the schema's -10…10 step 0.5.
    const loose = SCHEMA.map((f) => (f.name === 'gain' ? { ...f, min: -1e9, max: 1e9, step: undefined } : f));
    const server = await FuzzServer.start({ schema: loose });
    const before = snapshot();
    try {
      const message = await failure(() =>
        fc.assert(
          fc.asyncProperty(clientFrameInput, (t) => server.check(t, before)),
          { numRuns: 3000, seed: 11 },
        ),
      );
      expect(message).toContain('reached the bridge');
    } finally {
      await server.stop();
    }
  });
});

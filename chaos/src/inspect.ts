/**
 * Reads a run dumped with `pnpm run chaos --dump FILE` and prints what the records say around a
 * moment: `tsx src/inspect.ts FILE --at MS [--conn ID] [--device DEV] [--span MS]`. With no
 * `--at`, lists the violations.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CheckResult } from './checker.js';
import type { RunRecords } from './records.js';

const { values, positionals } = parseArgs({
  options: {
    at: { type: 'string' },
    conn: { type: 'string' },
    device: { type: 'string' },
    span: { type: 'string' },
    client: { type: 'string' },
  },
  allowPositionals: true,
});
const file = positionals[0];
if (!file)
  throw new Error('usage: tsx src/inspect.ts FILE [--at MS] [--conn ID] [--client pN] [--device DEV] [--span MS]');
const dump = JSON.parse(await readFile(file, 'utf8')) as { check: CheckResult; records: RunRecords };
const at = values.at === undefined ? undefined : Number(values.at);
const span = Number(values.span ?? 400);
const r = (t: number): string => t.toFixed(1).padStart(9);

if (at === undefined) {
  for (const v of dump.check.violations)
    console.log(`[${v.kind}] t=${v.t?.toFixed(1)} conn=${v.conn ?? ''} ${v.message}`);
} else {
  const from = at - span;
  const to = at + span / 4;
  console.log(`--- broker ${values.device ?? ''} ${from.toFixed(0)}..${to.toFixed(0)}`);
  for (const m of dump.records.broker) {
    if (m.t < from || m.t > to) continue;
    if (values.device && !m.topic.includes(`/${values.device}/`)) continue;
    console.log(`${r(m.t)}  ${m.topic}  ${m.payload}`);
  }
  for (const c of dump.records.connections) {
    if (values.conn && String(c.id) !== values.conn) continue;
    if (values.client && c.client !== values.client) continue;
    if (!values.conn && !values.client) continue;
    console.log(
      `--- connection ${c.id} (${c.client} #${c.n}, server ${c.serverGeneration}) opened ${c.openedAt.toFixed(1)} cut ${c.cutAt?.toFixed(1)} black-holed ${c.blackHoledAt?.toFixed(1)} serverEnded ${c.serverEndedAt?.toFixed(1)}`,
    );
    for (const f of c.frames) {
      if (f.t < from || f.t > to) continue;
      console.log(`${r(f.t)}  ${f.dir}  ${f.msg ? JSON.stringify(f.msg) : (f.raw ?? `close ${f.closeCode}`)}`);
    }
  }
}

import { describe, expect, it } from 'vitest';
import { parseClientFrame, parseServerFrame, encodeFrame, encodeUpdate } from './parse.js';
import { MAX_ABS_NUMBER, MAX_COUNTER, MAX_FRAME_BYTES } from './limits.js';
import { isFatalCloseCode } from './frames.js';

const ok = (text: string) => {
  const r = parseClientFrame(text);
  if (!r.ok) throw new Error(`expected ok, got ${r.message}`);
  return r.frame;
};
const bad = (text: unknown) => {
  const r = parseClientFrame(text);
  if (r.ok) throw new Error(`expected an error for ${String(text)}`);
  return r;
};

describe('parseClientFrame: valid frames', () => {
  it('reads hello with and without token', () => {
    expect(ok('{"type":"hello","device":"videoproc","mounts":0}')).toEqual({
      type: 'hello',
      device: 'videoproc',
      mounts: 0,
    });
    expect(ok('{"type":"hello","device":"videoproc","mounts":3,"token":"t"}')).toEqual({
      type: 'hello',
      device: 'videoproc',
      mounts: 3,
      token: 't',
    });
  });

  it('reads set with number, boolean and string values', () => {
    expect(ok('{"type":"set","id":7,"field":"genlock_phase_h","value":-20,"rev":41,"epoch":"e1"}')).toEqual({
      type: 'set',
      id: 7,
      field: 'genlock_phase_h',
      value: -20,
      rev: 41,
      epoch: 'e1',
    });
    expect(ok('{"type":"set","id":1,"field":"mute","value":true,"rev":0,"epoch":"e1"}')).toMatchObject({ value: true });
    expect(ok('{"type":"set","id":1,"field":"name","value":"cam 1","rev":0,"epoch":"e1"}')).toMatchObject({
      value: 'cam 1',
    });
  });

  it('reads ping', () => {
    expect(ok('{"type":"ping","id":3}')).toEqual({ type: 'ping', id: 3 });
  });

  it('drops unknown extra keys instead of passing them on', () => {
    const frame = ok('{"type":"ping","id":3,"extra":{"a":1}}');
    expect(Object.keys(frame)).toEqual(['type', 'id']);
  });
});

describe('parseClientFrame: bad input', () => {
  it('refuses non-JSON, non-objects and non-text', () => {
    expect(bad('not json').message).toMatch(/not valid JSON/);
    expect(bad('[1,2]').message).toMatch(/not a JSON object/);
    expect(bad('null').message).toMatch(/not a JSON object/);
    expect(bad(42).message).toMatch(/not text/);
  });

  it('refuses unknown and missing types', () => {
    expect(bad('{"type":"exec"}').message).toMatch(/unknown frame type "exec"/);
    expect(bad('{"id":1}').message).toMatch(/no "type"/);
  });

  it('refuses frames over the size limit with too-large', () => {
    const r = bad(JSON.stringify({ type: 'ping', id: 1, pad: 'x'.repeat(MAX_FRAME_BYTES) }));
    expect(r.code).toBe('too-large');
  });

  it('counts multi-byte characters in the size limit', () => {
    const pad = '€'.repeat(Math.ceil(MAX_FRAME_BYTES / 3) + 10); // 3 bytes each
    expect(pad.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(bad(JSON.stringify({ type: 'ping', id: 1, pad })).code).toBe('too-large');
  });

  it('refuses __proto__, constructor and prototype keys anywhere at the top level', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const r = bad(`{"type":"ping","id":1,"${key}":{"polluted":true}}`);
      expect(r.message).toMatch(/not allowed/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses forbidden names as field names', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      expect(bad(`{"type":"set","id":1,"field":"${name}","value":1,"rev":0,"epoch":"e1"}`).message).toMatch(
        /field name/,
      );
    }
  });

  it('refuses field names that could reach a topic', () => {
    for (const name of ['a/b', '#', '+', '$SYS', 'a\\u0000b', '', 'x'.repeat(65)]) {
      const r = bad(
        JSON.stringify({ type: 'set', id: 1, field: name.replace('\\u0000', '\u0000'), value: 1, rev: 0, epoch: 'e1' }),
      );
      expect(r.message).toMatch(/field name/);
    }
  });

  it('refuses Infinity from an overflowing number', () => {
    expect(bad('{"type":"set","id":1,"field":"h","value":1e999,"rev":0,"epoch":"e1"}').message).toMatch(/finite/);
  });

  it('refuses numbers beyond the magnitude limit', () => {
    expect(bad('{"type":"set","id":1,"field":"h","value":1e16,"rev":0,"epoch":"e1"}').message).toMatch(
      /finite number within/,
    );
  });

  it('refuses objects and arrays as set values', () => {
    for (const v of ['{}', '[]']) {
      expect(bad(`{"type":"set","id":1,"field":"h","value":${v},"rev":0,"epoch":"e1"}`).message).toMatch(
        /expected a number, boolean or string or null/,
      );
    }
  });

  it('reads a set with value null (an action press; the server refuses null for any other field)', () => {
    expect(ok('{"type":"set","id":2,"field":"reboot","value":null,"rev":0,"epoch":"e1"}')).toEqual({
      type: 'set',
      id: 2,
      field: 'reboot',
      value: null,
      rev: 0,
      epoch: 'e1',
    });
  });

  it('still needs rev and epoch on a set with value null', () => {
    expect(bad('{"type":"set","id":2,"field":"reboot","value":null,"epoch":"e1"}')).toMatchObject({
      id: 2,
      field: 'reboot',
      message: expect.stringMatching(/set\.rev/),
    });
    expect(bad('{"type":"set","id":2,"field":"reboot","value":null,"rev":0}').message).toMatch(/set\.epoch/);
  });

  it('refuses bad ids, revisions and mounts', () => {
    expect(bad('{"type":"ping","id":-1}').message).toMatch(/ping.id/);
    expect(bad('{"type":"ping","id":1.5}').message).toMatch(/ping.id/);
    expect(bad('{"type":"ping","id":"1"}').message).toMatch(/ping.id/);
    expect(bad('{"type":"hello","device":"d","mounts":-1}').message).toMatch(/hello.mounts/);
    expect(bad('{"type":"set","id":1,"field":"h","value":1,"rev":-1,"epoch":"e1"}').message).toMatch(/set.rev/);
  });

  it('refuses a set without an epoch, or with an empty or over-long one, keeping its id', () => {
    for (const epoch of [undefined, '', 7, 'e'.repeat(129)]) {
      const r = bad(JSON.stringify({ type: 'set', id: 4, field: 'h', value: 1, rev: 0, epoch }));
      expect(r.message).toMatch(/set\.epoch/);
      expect(r).toMatchObject({ code: 'bad-frame', id: 4, field: 'h' });
    }
    expect(
      ok(JSON.stringify({ type: 'set', id: 4, field: 'h', value: 1, rev: 0, epoch: 'e'.repeat(128) })),
    ).toMatchObject({
      type: 'set',
    });
  });

  it('refuses device ids with topic separators or wildcards', () => {
    for (const d of ['a/b', '#', '+', '', '$SYS']) {
      expect(bad(JSON.stringify({ type: 'hello', device: d, mounts: 0 })).message).toMatch(/device/);
    }
  });

  it('keeps the id of a bad set so it can be acked rejected/invalid', () => {
    const r = bad('{"type":"set","id":9,"field":"genlock_phase_h","value":{},"rev":0,"epoch":"e1"}');
    expect(r).toMatchObject({ code: 'bad-frame', id: 9, field: 'genlock_phase_h' });
    const r2 = bad('{"type":"set","id":9,"field":"a/b","value":1,"rev":0,"epoch":"e1"}');
    expect(r2.id).toBe(9);
    expect(r2.field).toBeUndefined();
  });

  it('has no id when a set has no readable id', () => {
    expect(bad('{"type":"set","id":"x","field":"h","value":1,"rev":0,"epoch":"e1"}').id).toBeUndefined();
  });

  it('refuses text values with NUL', () => {
    expect(
      bad(JSON.stringify({ type: 'set', id: 1, field: 'n', value: 'a\u0000b', rev: 0, epoch: 'e1' })).message,
    ).toMatch(/NUL/);
  });
});

describe('parseServerFrame', () => {
  const resync = {
    type: 'resync',
    epoch: 'e1',
    device: 'online',
    schema: [
      { name: 'genlock_phase_h', label: 'Phase Horizontal', type: 'integer', min: -512, max: 511, writable: true },
    ],
    fields: { genlock_phase_h: { value: -25, rev: 42 } },
  };

  it('round-trips every server frame through encodeFrame', () => {
    const frames = [
      resync,
      { type: 'update', field: 'genlock_phase_h', value: -25, rev: 42 },
      { type: 'update', field: 'genlock_phase_h', value: null, rev: 43 },
      { type: 'ack', id: 7, status: 'accepted' },
      { type: 'ack', id: 7, status: 'unknown' },
      { type: 'ack', id: 7, status: 'rejected', reason: 'stale', field: 'genlock_phase_h', value: -25, rev: 42 },
      { type: 'device', status: 'offline' },
      { type: 'pong', id: 3 },
      { type: 'error', code: 'bad-frame', message: 'no' },
    ] as const;
    for (const f of frames) {
      const r = parseServerFrame(encodeFrame(f as never));
      expect(r.ok).toBe(true);
      if (r.ok) expect(JSON.parse(JSON.stringify(r.frame))).toEqual(f);
    }
  });

  it('encodeUpdate writes the text encodeFrame writes for the same update', () => {
    const values = [
      null,
      true,
      false,
      0,
      -0,
      -25,
      0.1,
      -55.5,
      1e15,
      5e-324,
      MAX_ABS_NUMBER,
      -MAX_ABS_NUMBER,
      '',
      'Studio B',
      'say "hi" \\ back/slash',
      'tab\tnewline\ncr\rbell\u0007del\u007f',
      '\u2028\u2029 ünïcödé 😀',
      'lone \ud800 surrogate \udfff',
      '</script><!--',
    ];
    for (const field of ['genlock_phase_h', '_x', 'A9']) {
      for (const value of values) {
        for (const rev of [0, 1, 42, MAX_COUNTER]) {
          const text = encodeUpdate(field, value, rev);
          expect(text).toBe(encodeFrame({ type: 'update', field, value, rev }));
          // As JSON carries it (-0 is written 0).
          const carried = JSON.parse(JSON.stringify(value)) as typeof value;
          expect(parseServerFrame(text)).toEqual({ ok: true, frame: { type: 'update', field, value: carried, rev } });
        }
      }
    }
  });

  it('reads an action field and help text in the schema; an action needs no entry in fields', () => {
    const schema = [
      { name: 'reboot', label: 'Reboot', type: 'action', help: 'Restarts the device (about 10 s).', writable: true },
      { ...resync.schema[0], help: 'Horizontal phase of the genlock' },
    ];
    const r = parseServerFrame(JSON.stringify({ ...resync, schema }));
    expect(r.ok && r.frame.type === 'resync' && r.frame.schema).toEqual(schema);
    expect(r.ok && r.frame.type === 'resync' && Object.keys(r.frame.fields)).toEqual(['genlock_phase_h']);
  });

  it('refuses help text that is not a string or longer than MAX_LABEL_LENGTH', () => {
    for (const help of [7, 'x'.repeat(257)]) {
      const schema = [{ ...resync.schema[0], help }];
      const r = parseServerFrame(JSON.stringify({ ...resync, schema }));
      expect(r).toMatchObject({ ok: false, message: expect.stringMatching(/resync\.schema\[0\]\.help/) });
    }
  });

  it('gives resync.fields a null prototype so a field name cannot reach Object.prototype', () => {
    const r = parseServerFrame(JSON.stringify(resync));
    expect(r.ok && Object.getPrototypeOf(r.frame.type === 'resync' ? r.frame.fields : {})).toBeNull();
  });

  it('refuses a resync with a __proto__ field', () => {
    const text = JSON.stringify(resync).replace('"fields":{', '"fields":{"__proto__":{"value":1,"rev":1},');
    const r = parseServerFrame(text);
    expect(r.ok).toBe(false);
  });

  it('reads device lagging, in a device frame and a resync', () => {
    expect(parseServerFrame('{"type":"device","status":"lagging"}')).toEqual({
      ok: true,
      frame: { type: 'device', status: 'lagging' },
    });
    const r = parseServerFrame(JSON.stringify({ ...resync, device: 'lagging' }));
    expect(r.ok && r.frame.type === 'resync' && r.frame.device).toBe('lagging');
  });

  it('reads device gone in a device frame, and refuses it in a resync (a gone device has nothing to sync)', () => {
    expect(parseServerFrame('{"type":"device","status":"gone"}')).toEqual({
      ok: true,
      frame: { type: 'device', status: 'gone' },
    });
    const r = parseServerFrame(JSON.stringify({ ...resync, device: 'gone' }));
    expect(r).toMatchObject({ ok: false, message: 'resync.device: expected "online", "offline" or "lagging"' });
  });

  it('passes on a device status, reason, error code or field type from a newer server', () => {
    expect(parseServerFrame('{"type":"device","status":"maintenance"}')).toEqual({
      ok: true,
      frame: { type: 'device', status: 'maintenance' },
    });
    expect(parseServerFrame('{"type":"ack","id":1,"status":"rejected","reason":"quota-exceeded"}')).toEqual({
      ok: true,
      frame: { type: 'ack', id: 1, status: 'rejected', reason: 'quota-exceeded' },
    });
    expect(parseServerFrame('{"type":"error","code":"server-moved","message":"x"}')).toEqual({
      ok: true,
      frame: { type: 'error', code: 'server-moved', message: 'x' },
    });
    // An unknown field type becomes read-only text: shown, never written.
    const colour = { name: 'tint', label: 'Tint', type: 'colour', writable: true };
    const r = parseServerFrame(
      JSON.stringify({ ...resync, schema: [colour], fields: { tint: { value: '#fff', rev: 1 } } }),
    );
    expect(r.ok && r.frame.type === 'resync' && r.frame.schema).toEqual([{ ...colour, type: 'text', writable: false }]);
  });

  it('refuses what is not a word, and statuses that cannot be', () => {
    expect(parseServerFrame('{"type":"ack","id":1,"status":"rejected","reason":"No pe!"}').ok).toBe(false);
    expect(parseServerFrame('{"type":"ack","id":1,"status":"rejected","reason":7}').ok).toBe(false);
    expect(parseServerFrame(`{"type":"error","code":"${'x'.repeat(65)}","message":"x"}`).ok).toBe(false);
    // Unknown ack statuses stay refused: whether a write happened cannot be guessed.
    expect(parseServerFrame('{"type":"ack","id":1,"status":"maybe"}').ok).toBe(false);
    // A device frame never says online: a fresh resync does.
    expect(parseServerFrame('{"type":"device","status":"online"}').ok).toBe(false);
  });

  it('never throws on garbage', () => {
    for (const g of ['', '{', '"x"', '{"type":"resync"}', '{"type":"resync","schema":7}', undefined, {}]) {
      expect(() => parseServerFrame(g)).not.toThrow();
      expect(parseServerFrame(g).ok).toBe(false);
    }
  });
});

describe('close codes', () => {
  it('treats 4400, 4401, 4403 and 4404 as fatal and the rest as retryable', () => {
    expect([4400, 4401, 4403, 4404].every(isFatalCloseCode)).toBe(true);
    expect([1000, 1001, 1006, 1009, 4408, 4429].some(isFatalCloseCode)).toBe(false);
  });
});

describe('parseServerFrame: messages name the bad part', () => {
  const frame = (patch: Record<string, unknown>) =>
    JSON.stringify({ type: 'resync', epoch: 'e1', device: 'online', schema: [], fields: {}, ...patch });
  const message = (text: string) => {
    const r = parseServerFrame(text);
    if (r.ok) throw new Error(`expected an error for ${text}`);
    return r.message;
  };
  const field = { name: 'h', label: 'H', type: 'integer', writable: true };

  it('gives the path of a bad schema entry, option or field state', () => {
    expect(message(frame({ schema: [field, { ...field, min: 'x' }] }))).toBe(
      'resync.schema[1].min: expected a finite number within ±1000000000000000',
    );
    expect(
      message(frame({ schema: [{ ...field, type: 'enum', options: [{ value: 'a' }, { value: 'b', label: 7 }] }] })),
    ).toBe('resync.schema[0].options[1].label: expected a string');
    expect(message(frame({ schema: [{ ...field, step: 0 }] }))).toBe('resync.schema[0].step: must be greater than 0');
    expect(message(frame({ fields: { h: { value: 1, rev: -1 } } }))).toBe(
      'resync.fields.h.rev: expected an integer from 0 to 9007199254740991',
    );
    expect(message(frame({ fields: { 'a/b': { value: 1, rev: 1 } } }))).toBe(
      'resync.fields key: not a valid field name',
    );
    expect(message(frame({ device: 'Maybe?' }))).toBe('resync.device: expected "online", "offline" or "lagging"');
  });

  it('reads a rejected ack’s current state only when it names a field', () => {
    expect(parseServerFrame('{"type":"ack","id":1,"status":"rejected","reason":"guard","value":{},"rev":-1}')).toEqual({
      ok: true,
      frame: { type: 'ack', id: 1, status: 'rejected', reason: 'guard' },
    });
    expect(message('{"type":"ack","id":1,"status":"rejected","reason":"stale","field":"h","value":{},"rev":1}')).toBe(
      'ack.value: expected a number, boolean or string or null',
    );
    expect(message('{"type":"ack","id":1,"status":"accepted","__proto__":{}}')).toBe(
      'frame: key "__proto__" is not allowed',
    );
  });
});

describe('parseServerFrame: update frames (the lean reader)', () => {
  const update = (patch: Record<string, unknown>) =>
    JSON.stringify({ type: 'update', field: 'genlock_phase_h', value: -25, rev: 42, ...patch });
  const refusal = (text: string) => {
    const r = parseServerFrame(text);
    if (r.ok) throw new Error(`expected an error for ${text}`);
    return `${r.code}: ${r.message}`;
  };

  it('reads every kind of value and the extreme revisions into a fresh frame of the four keys', () => {
    for (const value of [null, true, false, 0, -25, 0.5, 1e15, -1e15, '', 'text', 'ü€😀', 'x'.repeat(1024)]) {
      for (const rev of [0, 42, Number.MAX_SAFE_INTEGER]) {
        expect(parseServerFrame(update({ value, rev }))).toEqual({
          ok: true,
          frame: { type: 'update', field: 'genlock_phase_h', value, rev },
        });
      }
    }
    const r = parseServerFrame(update({ extra: { deep: 1 }, more: [1] }));
    expect(r.ok && Object.keys(r.frame)).toEqual(['type', 'field', 'value', 'rev']);
    expect(r.ok && Object.getPrototypeOf(r.frame)).toBe(Object.prototype);
  });

  it('refuses a bad field name, naming it', () => {
    const refused = 'bad-frame: update.field: not a valid field name';
    for (const field of [undefined, null, 7, '', '1abc', 'a/b', 'a b', 'a.b', '#', 'x'.repeat(65), ['a'], { a: 1 }]) {
      expect(refusal(update({ field }))).toBe(refused);
    }
    for (const field of ['__proto__', 'constructor', 'prototype']) expect(refusal(update({ field }))).toBe(refused);
  });

  it('refuses a bad value, naming what is wrong with it', () => {
    const notAValue = 'bad-frame: update.value: expected a number, boolean or string or null';
    expect(refusal(update({ value: undefined }))).toBe(notAValue);
    expect(refusal(update({ value: {} }))).toBe(notAValue);
    expect(refusal(update({ value: [1] }))).toBe(notAValue);
    const notFinite = 'bad-frame: update.value: expected a finite number within ±1000000000000000';
    expect(refusal(update({ value: 1e15 + 2 }))).toBe(notFinite);
    expect(refusal(update({ value: -1e16 }))).toBe(notFinite);
    expect(refusal(update({ value: 7 }).replace('7', '1e999'))).toBe(notFinite);
    expect(refusal(update({ value: 'x'.repeat(1025) }))).toBe('bad-frame: update.value: longer than 1024 characters');
    expect(refusal(update({ value: 'a\u0000b' }))).toBe('bad-frame: update.value: contains a NUL character');
  });

  it('refuses a bad revision, naming it', () => {
    for (const rev of [undefined, null, -1, 1.5, '3', 2 ** 53, true]) {
      expect(refusal(update({ rev }))).toBe('bad-frame: update.rev: expected an integer from 0 to 9007199254740991');
    }
  });

  it('names the first bad part in the order field, value, rev', () => {
    expect(refusal(update({ field: '1', value: {}, rev: -1 }))).toMatch(/update\.field/);
    expect(refusal(update({ value: {}, rev: -1 }))).toMatch(/update\.value/);
  });

  it('refuses forbidden keys, non-objects and oversized frames as for any frame', () => {
    expect(refusal(update({}).replace('{', '{"__proto__":{"field":"x"},'))).toBe(
      'bad-frame: frame: key "__proto__" is not allowed',
    );
    expect(refusal(update({ constructor: 1 }))).toBe('bad-frame: frame: key "constructor" is not allowed');
    expect(refusal(`[${update({})}]`)).toBe('bad-frame: frame is not a JSON object');
    expect(refusal(update({}).slice(0, -1))).toBe('bad-frame: frame is not valid JSON');
    expect(refusal(update({ value: 'x', pad: 'y'.repeat(1024 * 1024) }))).toBe(
      'too-large: frame is larger than 1048576 bytes',
    );
    expect(refusal(update({ type: 'Update' }))).toBe('bad-frame: unknown frame type "Update"');
  });
});

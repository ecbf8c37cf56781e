import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineDevice, loadDeviceFile } from '../device/index.js';
import { VIDEOPROC_FILE, VP } from '@live-device-form/testkit';
import { createDeviceCodec } from './device-codec.js';
import { noFreshValue, freshFrom } from '@live-device-form/testkit';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

const videoproc = async () => createDeviceCodec(await loadDeviceFile(VIDEOPROC_FILE));

describe('pattern codec: decoding status payloads', () => {
  it('decodes a composite payload into both fields', async () => {
    const codec = await videoproc();
    expect(codec.decode(VP.genlockStatus, buf('-25 10'))).toEqual({
      ok: true,
      values: { genlock_phase_h: -25, genlock_phase_v: 10 },
    });
    expect(codec.decode(VP.genlockStatus, buf('+3 -0'))).toEqual({
      ok: true,
      values: { genlock_phase_h: 3, genlock_phase_v: -0 },
    });
  });

  it('maps boolean and enum tokens to values', async () => {
    const codec = await videoproc();
    expect(codec.decode(VP.freezeStatus, buf('1'))).toEqual({ ok: true, values: { freeze: true } });
    expect(codec.decode(VP.freezeStatus, buf('0'))).toEqual({ ok: true, values: { freeze: false } });
    expect(codec.decode(VP.formatStatus, buf('3'))).toEqual({ ok: true, values: { output_format: '2160p50' } });
  });

  it('parses numbers strictly', async () => {
    const codec = await videoproc();
    expect(codec.decode(VP.brightnessStatus, buf('42.5'))).toEqual({ ok: true, values: { brightness: 42.5 } });
    expect(codec.decode(VP.brightnessStatus, buf('1e1'))).toEqual({ ok: true, values: { brightness: 10 } });
    for (const bad of ['', ' 42', '42 ', '0x10', '4 2', 'NaN', 'Infinity', '1e999', '42%', '--1', '.']) {
      expect(codec.decode(VP.brightnessStatus, buf(bad))?.ok, JSON.stringify(bad)).toBe(false);
    }
    for (const bad of ['1.5', '1e3', '9007199254740993', '']) {
      expect(codec.decode(VP.delayStatus, buf(bad))?.ok, JSON.stringify(bad)).toBe(false);
    }
  });

  it('refuses payloads that do not match, with a reason and without values', async () => {
    const codec = await videoproc();
    const cases: [string, string][] = [
      [VP.genlockStatus, '-25'],
      [VP.genlockStatus, '-25 10 3'],
      [VP.genlockStatus, '-25  10'],
      [VP.genlockStatus, 'genlock -25 10'],
      [VP.genlockStatus, '-25 ten'],
      [VP.genlockStatus, '-25 10\n'],
      [VP.freezeStatus, 'true'],
      [VP.formatStatus, '7'],
      [VP.formatStatus, '1080p50'],
    ];
    for (const [topic, payload] of cases) {
      const r = codec.decode(topic, buf(payload));
      expect(r?.ok, `${topic} ${JSON.stringify(payload)}`).toBe(false);
      expect(r).toMatchObject({ message: expect.any(String) });
    }
    expect(codec.decode(VP.genlockStatus, buf('-25 10 3'))).toEqual({
      ok: false,
      message: 'payload does not match the pattern "{genlock_phase_h} {genlock_phase_v}"',
    });
  });

  it('reads a payload that is one placeholder alone exactly as its pattern would', async () => {
    // `{freeze}`, `{output_format}` and `{input_signal}` are read without a regex: the same answers.
    const codec = await videoproc();
    for (const bad of ['', ' 1', '1 ', '11', '1\n', 'true']) {
      expect(codec.decode(VP.freezeStatus, buf(bad))?.ok, JSON.stringify(bad)).toBe(false);
    }
    for (const bad of ['', ' 3', '3 ', '33', '2160p50']) {
      expect(codec.decode(VP.formatStatus, buf(bad))?.ok, JSON.stringify(bad)).toBe(false);
    }
    expect(codec.decode(VP.inputStatus, buf(''))).toEqual({ ok: true, values: { input_signal: '' } });
    expect(codec.decode(VP.inputStatus, buf(' a\tb\n'))).toEqual({ ok: true, values: { input_signal: ' a\tb\n' } });
    expect(codec.decode(VP.inputStatus, buf('\u0000'))).toEqual({
      ok: false,
      message: 'payload does not match the pattern "{input_signal}"',
    });
  });

  it('answers undefined for a topic that is not a status topic', async () => {
    expect((await videoproc()).decode(VP.genlockSet, buf('genlock 1 2'))).toBeUndefined();
  });

  it('reads text with spaces when the pattern has no separator after it, and refuses oversized payloads', async () => {
    const codec = await videoproc();
    expect(codec.decode(VP.inputStatus, buf('1080p50 SDI, locked'))).toEqual({
      ok: true,
      values: { input_signal: '1080p50 SDI, locked' },
    });
    expect(codec.decode(VP.inputStatus, Buffer.alloc(70_000, 0x61))?.ok).toBe(false);
    expect(codec.decode(VP.inputStatus, buf('a\u0000b'))?.ok).toBe(false);
  });

  it('never throws and never hangs on arbitrary payloads', async () => {
    const codec = await videoproc();
    const texts = createDeviceCodec(
      defineDevice({
        id: 'd',
        topics: [{ status: 's', pattern: '{a} {b} {c}' }],
        fields: { a: { type: 'text' }, b: { type: 'text' }, c: { type: 'text' } },
      }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(VP.genlockStatus, VP.formatStatus, VP.inputStatus),
        (bytes, topic) => {
          const r = codec.decode(topic, Buffer.from(bytes));
          expect(r === undefined || typeof r.ok === 'boolean').toBe(true);
          expect(texts.decode('s', Buffer.from(bytes))).toBeDefined();
        },
      ),
    );
    // A hostile payload for lazy text captures: must stay linear.
    const started = performance.now();
    texts.decode('s', buf(`${'a'.repeat(60_000)}`));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('pattern codec: encoding writes', () => {
  it('fills the other field of a composite payload from freshest', async () => {
    const codec = await videoproc();
    expect(codec.encode('genlock_phase_h', 22, freshFrom({ genlock_phase_v: 10 }))).toEqual({
      ok: true,
      topic: VP.genlockSet,
      payload: 'genlock 22 10',
    });
    expect(codec.encode('genlock_phase_v', -7, freshFrom({ genlock_phase_h: 22 }))).toEqual({
      ok: true,
      topic: VP.genlockSet,
      payload: 'genlock 22 -7',
    });
  });

  it('refuses to build a composite payload when the other field is unknown', async () => {
    const codec = await videoproc();
    expect(codec.encode('genlock_phase_h', 22, noFreshValue)).toEqual({
      ok: false,
      message: 'field "genlock_phase_v" is not known yet, so the payload cannot be built',
    });
  });

  it('writes tokens for booleans and enums, step decimals for numbers', async () => {
    const codec = await videoproc();
    expect(codec.encode('freeze', true, noFreshValue)).toMatchObject({ ok: true, payload: 'freeze 1' });
    expect(codec.encode('freeze', false, noFreshValue)).toMatchObject({ ok: true, payload: 'freeze 0' });
    expect(codec.encode('output_format', '1080p59.94', noFreshValue)).toMatchObject({
      ok: true,
      topic: VP.formatSet,
      payload: 'format 1',
    });
    expect(codec.encode('brightness', 42.5, noFreshValue)).toMatchObject({ ok: true, payload: 'brightness 42.5' });
    expect(codec.encode('brightness', 40, noFreshValue)).toMatchObject({ ok: true, payload: 'brightness 40.0' });
    expect(codec.encode('audio_delay', 120, noFreshValue)).toMatchObject({ ok: true, payload: 'delay 120' });
  });

  it('never encodes a value its schema refuses, a read-only field or an unknown one', async () => {
    const codec = await videoproc();
    expect(codec.encode('genlock_phase_h', 600, freshFrom({ genlock_phase_v: 0 }))).toEqual({
      ok: false,
      message: 'field "genlock_phase_h": above the maximum 511',
    });
    expect(codec.encode('output_format', 'pal', noFreshValue).ok).toBe(false);
    expect(codec.encode('input_signal', 'x', noFreshValue)).toEqual({
      ok: false,
      message: 'field "input_signal": read-only',
    });
    expect(codec.encode('nope', 1, noFreshValue)).toEqual({ ok: false, message: 'field "nope": unknown field' });
  });

  it('round-trips every writable value through template and pattern', async () => {
    const codec = await videoproc();
    fc.assert(
      fc.property(fc.integer({ min: -512, max: 511 }), fc.integer({ min: -512, max: 511 }), (h, v) => {
        const e = codec.encode('genlock_phase_h', h, freshFrom({ genlock_phase_v: v }));
        if (!e.ok) throw new Error(e.message);
        const status = String(e.payload).replace(/^genlock /, '');
        expect(codec.decode(VP.genlockStatus, buf(status))).toEqual({
          ok: true,
          values: { genlock_phase_h: h, genlock_phase_v: v },
        });
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), (k) => {
        const e = codec.encode('brightness', k * 0.5, noFreshValue);
        if (!e.ok) throw new Error(e.message);
        expect(codec.decode(VP.brightnessStatus, buf(String(e.payload).replace(/^brightness /, '')))).toEqual({
          ok: true,
          values: { brightness: k * 0.5 },
        });
      }),
    );
  });
});

describe('pattern codec: text values cannot forge a payload', () => {
  const device = defineDevice({
    id: 'd',
    topics: [
      { status: 'st/label', pattern: '{label} {index}', set: 'set/label', template: 'label "{label}" {index}' },
      { status: 'st/free', pattern: '{free}', set: 'set/free', template: 'free {free}' },
    ],
    fields: {
      label: { type: 'text', writable: true },
      index: { type: 'integer', writable: true },
      free: { type: 'text', writable: true },
    },
  });
  const codec = createDeviceCodec(device);

  it('checkWrite refuses the separators of the pattern and the template', () => {
    expect(codec.checkWrite('label', 'cam one')).toBe('contains " ", which separates the fields of its payload');
    // Each punctuation character of a separator too: a device may split on any of them.
    expect(codec.checkWrite('label', 'cam"1')).toBe(
      'contains "\\"", a character of the separator "\\" " of its payload',
    );
    expect(codec.checkWrite('label', 'cam-1')).toBeUndefined();
    expect(codec.checkWrite('label', 'a\nb')).toBe('contains a newline or control character (U+000A)');
  });

  it('a text alone in its payload may hold spaces, never newlines', () => {
    expect(codec.checkWrite('free', 'studio A, rack 3')).toBeUndefined();
    expect(codec.checkWrite('free', 'x\r\nfree y')).toBe('contains a newline or control character (U+000D)');
    expect(codec.checkWrite('free', 'x\u2028free y')).toBe('contains the line or paragraph separator U+2028');
    expect(codec.checkWrite('index', 3)).toBeUndefined();
  });

  it('encode refuses such a value itself too, and a freshest one', () => {
    expect(codec.encode('label', 'a b', freshFrom({ index: 1 }))).toEqual({
      ok: false,
      message: 'field "label": contains " ", which separates the fields of its payload',
    });
    expect(codec.encode('index', 2, freshFrom({ label: 'a"b' })).ok).toBe(false);
    expect(codec.encode('index', 2, freshFrom({ label: 'cam1' }))).toEqual({
      ok: true,
      topic: 'set/label',
      payload: 'label "cam1" 2',
    });
  });

  it('a text capture ends at the first separator', () => {
    expect(codec.decode('st/label', buf('cam1 3'))).toEqual({ ok: true, values: { label: 'cam1', index: 3 } });
    expect(codec.decode('st/label', buf('cam 1 3'))?.ok).toBe(false);
  });
});

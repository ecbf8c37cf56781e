import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceDescriptionError } from '../errors.js';
import { VIDEOPROC_FILE } from '@live-device-form/testkit';
import { MAX_SERVER_FRAME_BYTES, maxResyncBytes } from '@live-device-form/protocol';
import { defineDevice, loadDeviceFile, parseDeviceDescription } from './define.js';
import { toFieldSchemas } from './field-schemas.js';
import type { DeviceDescription } from './types.js';

/** A description taken as it is, to compute its schema without the checks under test. */
const defineDeviceUnchecked = (d: unknown): DeviceDescription => d as DeviceDescription;

/** A minimal valid description; tests change one thing at a time. */
const base = () => ({
  id: 'videoproc',
  availability: { topic: 'cy-vp4/status/online', online: '1', offline: '0' },
  topics: [
    {
      status: 'cy-vp4/videoproc/status/volatile/genlock_phase',
      pattern: '{genlock_phase_h} {genlock_phase_v}',
      set: 'cy-vp4/videoproc/action/set/genlock',
      template: 'genlock {genlock_phase_h} {genlock_phase_v}',
    } as Record<string, unknown>,
  ],
  fields: {
    genlock_phase_h: { label: 'Phase Horizontal', type: 'integer', min: -512, max: 511, writable: true } as Record<
      string,
      unknown
    >,
    genlock_phase_v: { label: 'Phase Vertical', type: 'integer', min: -512, max: 511, writable: true } as Record<
      string,
      unknown
    >,
  } as Record<string, Record<string, unknown>>,
});

const issuesOf = (json: unknown): string[] => {
  const r = parseDeviceDescription(json);
  if (r.ok) throw new Error('expected the description to be refused');
  return r.issues;
};

describe('device descriptions: valid input', () => {
  it('loads the example video processor file', async () => {
    const device = await loadDeviceFile(VIDEOPROC_FILE);
    expect(device.id).toBe('videoproc');
    expect(Object.keys(device.fields)).toEqual([
      'genlock_phase_h',
      'genlock_phase_v',
      'freeze',
      'output_format',
      'brightness',
      'audio_delay',
      'input_signal',
    ]);
    expect(Object.isFrozen(device)).toBe(true);
  });

  it('accepts the example of the module documentation (define.ts) as it is', () => {
    expect(parseDeviceDescription(base()).ok).toBe(true);
  });

  it("defineDevice returns a frozen copy and never keeps the caller's object", () => {
    const input = base();
    const device = defineDevice(input as never);
    input.id = 'changed';
    expect(device.id).toBe('videoproc');
    expect(() => ((device as { id: string }).id = 'x')).toThrow(TypeError);
  });
});

describe('device descriptions: errors name the path of the bad entry', () => {
  it('reports a wrong type exactly as `fields.genlock_phase_h.min: expected a number`', () => {
    const d = base();
    (d.fields.genlock_phase_h as Record<string, unknown>).min = '-512';
    expect(issuesOf(d)).toEqual(['fields.genlock_phase_h.min: expected a number']);
  });

  it('reports missing and unknown keys, and bad enums', () => {
    const d = base();
    delete (d.fields.genlock_phase_v as Record<string, unknown>).type;
    (d.fields.genlock_phase_h as Record<string, unknown>).colour = 'red';
    expect(issuesOf(d)).toEqual([
      'fields.genlock_phase_h.colour: unknown key',
      'fields.genlock_phase_v.type: required',
    ]);
    const e = base();
    (e.fields.genlock_phase_h as Record<string, unknown>).type = 'float';
    expect(issuesOf(e)).toEqual([
      'fields.genlock_phase_h.type: expected one of "number", "integer", "boolean", "enum", "text", "action"',
    ]);
  });

  it('names array entries by index', () => {
    const d = base();
    (d.topics[0] as Record<string, unknown>).pattern = '{genlock_phase_h} {genlock_phase_x}';
    expect(issuesOf(d)).toEqual([
      'topics[0].pattern: unknown field "{genlock_phase_x}"',
      'fields.genlock_phase_v: not read from any status topic',
    ]);
  });

  it('refuses a root that is not an object', () => {
    expect(issuesOf([])).toEqual(['(root): expected an object']);
    expect(issuesOf(null)).toEqual(['(root): expected an object']);
  });

  it('refuses wildcards, NUL and braces in topics: a field name never becomes part of a topic', () => {
    for (const [topic, msg] of [
      ['cy-vp4/+/status', 'must not contain the wildcards "+" or "#"'],
      ['cy-vp4/#', 'must not contain the wildcards "+" or "#"'],
      ['cy-vp4/\u0000', 'must not contain a NUL character'],
      [
        'cy-vp4/{genlock_phase_h}',
        'must not contain "{" or "}": topics are literal, a field name never becomes part of a topic',
      ],
    ]) {
      const d = base();
      (d.topics[0] as Record<string, unknown>).set = topic;
      expect(issuesOf(d)).toEqual([`topics[0].set: ${msg}`]);
    }
    const a = base();
    a.availability.topic = 'x/+';
    expect(issuesOf(a)).toEqual(['availability.topic: must not contain the wildcards "+" or "#"']);
  });

  it("refuses $SYS topics, the broker's own, as status, set or availability topics", () => {
    const sys = "must not be in $SYS/, the broker's own topics: they are not the device's";
    for (const key of ['status', 'set'] as const) {
      for (const topic of ['$SYS/broker/clients/connected', '$SYS']) {
        const d = base();
        (d.topics[0] as Record<string, unknown>)[key] = topic;
        expect(issuesOf(d)).toEqual([`topics[0].${key}: ${sys}`]);
      }
    }
    const a = base();
    a.availability.topic = '$SYS/broker/uptime';
    expect(issuesOf(a)).toEqual([`availability.topic: ${sys}`]);
    // Other `$` topics are a broker's or a cloud's to define (AWS IoT shadows): allowed.
    const aws = base();
    (aws.topics[0] as Record<string, unknown>).status = '$aws/things/vp4/shadow/update/accepted';
    expect(parseDeviceDescription(aws).ok).toBe(true);
    const similar = base();
    (similar.topics[0] as Record<string, unknown>).status = '$SYSTEM/vp4';
    expect(parseDeviceDescription(similar).ok).toBe(true);
  });

  it('refuses, at load, a device whose resync could exceed the frame limit of every client, with both figures', async () => {
    // Six enums of 256 options of 1,000 characters: a resync over 1.5 MB, which every client refuses.
    const d = base() as Record<string, unknown> & ReturnType<typeof base>;
    d.topics.push({ status: 'cy-vp4/modes', json: {} });
    const json: Record<string, string> = {};
    for (let i = 0; i < 6; i++) {
      d.fields[`mode${i}`] = {
        type: 'enum',
        options: Array.from({ length: 256 }, (_, j) => ({ value: `${j}:${'x'.repeat(996)}` })),
      };
      json[`mode${i}`] = `/mode${i}`;
    }
    (d.topics[1] as { json: Record<string, string> }).json = json;
    const dir = await mkdtemp(join(tmpdir(), 'ldf-device-'));
    const file = join(dir, 'huge.json');
    await writeFile(file, JSON.stringify(d));
    const expected = maxResyncBytes(toFieldSchemas(defineDeviceUnchecked(d)));
    expect(expected).toBeGreaterThan(1_500_000);
    const message =
      `fields: a resync of this device could reach ${expected} bytes (its labels and options, every value at its longest), ` +
      `over the ${MAX_SERVER_FRAME_BYTES}-byte frame limit of every client (MAX_SERVER_FRAME_BYTES): ` +
      'use fewer fields or options, or shorter labels or option values';
    await expect(loadDeviceFile(file)).rejects.toMatchObject({ issues: [message] });
    // The same check for a description written in code (and so for createMqttBridge).
    expect(() => defineDevice(d as never)).toThrow(message);
    // Three of them fit.
    for (const i of [3, 4, 5]) {
      delete d.fields[`mode${i}`];
      delete json[`mode${i}`];
    }
    expect(parseDeviceDescription(d)).toMatchObject({ ok: true });
  });

  it('counts text statuses at their longest: 168 text fields are too many, 160 fit', () => {
    const many = (n: number) => {
      const fields: Record<string, unknown> = {};
      const json: Record<string, string> = {};
      for (let i = 0; i < n; i++) {
        fields[`t${i}`] = { type: 'text', maxLength: 8 };
        json[`t${i}`] = `/t${i}`;
      }
      return { id: 'texts', topics: [{ status: 'texts/state', json }], fields };
    };
    expect(parseDeviceDescription(many(160)).ok).toBe(true);
    expect(issuesOf(many(168))).toEqual([
      expect.stringMatching(/^fields: a resync of this device could reach \d+ bytes/),
    ]);
  });

  it('refuses a device id outside DEVICE_ID_PATTERN', () => {
    for (const id of ['', 'a/b', 'a+b', '.hidden', 'x'.repeat(65)]) {
      const d = base();
      d.id = id;
      expect(issuesOf(d)[0]).toMatch(/^id: not a valid device id/);
    }
  });

  it('refuses field names that are not field names, and prototype keys anywhere', () => {
    const d = base();
    d.fields['bad-name'] = { type: 'integer' };
    expect(issuesOf(d)).toContain(
      'fields.bad-name: not a valid field name (a letter or "_", then letters, digits or "_", at most 64)',
    );
    const p = JSON.parse('{"id":"x","topics":[],"fields":{"__proto__":{"type":"text"}}}');
    expect(issuesOf(p)).toEqual(['fields.__proto__: forbidden key']);
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });

  it('checks patterns: placeholders, braces, separators', () => {
    const cases: [string, string][] = [
      [
        '{genlock_phase_h}{genlock_phase_v}',
        '"{genlock_phase_h}" and "{genlock_phase_v}" need literal text between them',
      ],
      ['{genlock_phase_h} {genlock_phase_h}', '"{genlock_phase_h}" appears twice'],
      ['{genlock_phase_h} {genlock_phase_v', 'unclosed "{" at 18'],
      ['{genlock_phase_h} } {genlock_phase_v}', 'unmatched "}" at 18 (write "}}" for a literal brace)'],
      ['{genlock phase} {genlock_phase_v}', '"{genlock phase}" is not a valid placeholder'],
    ];
    for (const [pattern, message] of cases) {
      const d = base();
      (d.topics[0] as Record<string, unknown>).template = pattern;
      expect(issuesOf(d)[0]).toBe(`topics[0].template: ${message}`);
    }
    const ok = base();
    (ok.topics[0] as Record<string, unknown>).template = '{{"h":{genlock_phase_h},"v":{genlock_phase_v}}}';
    expect(parseDeviceDescription(ok).ok).toBe(true);
  });

  it('cross-checks fields against topics', () => {
    const d = base();
    d.fields.extra = { type: 'integer', writable: true };
    expect(issuesOf(d)).toEqual([
      'fields.extra: not read from any status topic',
      'fields.extra.writable: a writable field needs a "set" topic',
    ]);

    const twice = base();
    twice.topics.push({ status: 'other/topic', pattern: '{genlock_phase_h}' });
    expect(issuesOf(twice)).toEqual(['topics[1].pattern: field "genlock_phase_h" is already read by topics[0]']);

    const echo = base();
    (echo.topics[0] as Record<string, unknown>).set = 'cy-vp4/videoproc/status/volatile/genlock_phase';
    expect(issuesOf(echo)).toEqual([
      'topics[0].set: is also a status topic: a write would read back as a device change',
    ]);

    const half = base();
    delete (half.topics[0] as Record<string, unknown>).template;
    expect(issuesOf(half)).toEqual([
      'topics[0].template: "set" and "template" go together',
      'fields.genlock_phase_h.writable: a writable field needs a "set" topic',
      'fields.genlock_phase_v.writable: a writable field needs a "set" topic',
    ]);
  });

  it('checks field properties against the field type', () => {
    const d = base();
    d.fields.mode = {
      type: 'enum',
      options: [
        { value: 'a', token: '0' },
        { value: 'b', token: '0' },
      ],
    };
    d.fields.flag = { type: 'boolean', true: 'on', false: 'on', min: 0 };
    d.topics.push({ status: 'x/mode', pattern: '{mode} {flag}' });
    expect(issuesOf(d)).toEqual([
      'fields.mode.options[1].token: duplicate token "0"',
      'fields.flag.min: only number and integer fields have min',
      'fields.flag.false: the true and false tokens must differ',
    ]);
    const r = base();
    (r.fields.genlock_phase_h as Record<string, unknown>).min = 10;
    (r.fields.genlock_phase_h as Record<string, unknown>).max = 0;
    (r.fields.genlock_phase_h as Record<string, unknown>).step = 0.5;
    expect(issuesOf(r)).toEqual([
      'fields.genlock_phase_h.min: greater than max (0)',
      'fields.genlock_phase_h.step: an integer field needs an integer step',
    ]);
  });

  it('refuses a token that contains a separator of its pattern', () => {
    const d = base();
    d.fields.mode = { type: 'enum', options: [{ value: 'a', token: 'x y' }, { value: 'b' }] };
    d.topics.push({ status: 'x/mode', pattern: '{mode} {genlock_phase_h}' });
    delete (d.topics[0] as Record<string, unknown>).status;
    delete (d.topics[0] as Record<string, unknown>).pattern;
    d.topics.push({ status: 'x/v', pattern: '{genlock_phase_v}' });
    expect(issuesOf(d)).toEqual(['fields.mode.options[0].token: token "x y" contains " ", a separator of topics[1]']);
  });

  it('checks JSON pointers and refuses custom codecs in JSON', () => {
    const d = base();
    d.topics = [{ status: 's', set: 'w', json: { genlock_phase_h: '/phase/h', genlock_phase_v: 'phase/v' } }];
    expect(issuesOf(d)).toEqual(['topics[0].json.genlock_phase_v: a JSON pointer is "" or starts with "/"']);
    const o = base();
    o.topics = [{ status: 's', set: 'w', json: { genlock_phase_h: '/phase', genlock_phase_v: '/phase/v' } }];
    expect(issuesOf(o)).toEqual(['topics[0].json.genlock_phase_v: overlaps the pointer of "genlock_phase_h"']);
    const c = base();
    c.topics = [{ status: 's', fields: ['genlock_phase_h', 'genlock_phase_v'] }];
    expect(issuesOf(c)[0]).toBe(
      'topics[0]: custom codecs (fields/decode/encode) are only available in the TypeScript API, use "pattern"/"template" or "json"',
    );
  });

  it('defineDevice throws a DeviceDescriptionError (a TypeError) listing the issues', () => {
    const d = base();
    (d.fields.genlock_phase_h as Record<string, unknown>).min = 'low';
    let error: unknown;
    try {
      defineDevice(d as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DeviceDescriptionError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as DeviceDescriptionError).code).toBe('ERR_INVALID_DEVICE_DESCRIPTION');
    expect((error as DeviceDescriptionError).issues).toEqual(['fields.genlock_phase_h.min: expected a number']);
    expect((error as Error).message).toContain('fields.genlock_phase_h.min: expected a number');
  });

  it('defineDevice accepts custom codecs and checks their field names', () => {
    const device = defineDevice({
      id: 'lamp',
      topics: [
        {
          status: 'lamp/state',
          set: 'lamp/set',
          fields: ['level'],
          decode: (p) => ({ level: Number(p) }),
          encode: (w) => String(w.value),
        },
      ],
      fields: { level: { type: 'integer', writable: true } },
    });
    expect(device.topics).toHaveLength(1);
    expect(() =>
      defineDevice({
        id: 'lamp',
        topics: [{ status: 'lamp/state', fields: ['level'] }],
        fields: { level: { type: 'integer' } },
      }),
    ).toThrow('topics[0].decode: a custom "status" mapping needs decode');
  });

  it('loadDeviceFile names the file, and says when it is not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldf-device-'));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "id": "x", ');
    await expect(loadDeviceFile(bad)).rejects.toThrow(/invalid device description in .*bad\.json:\n {2}not valid JSON/);
    await expect(loadDeviceFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot read the file/);
    await expect(loadDeviceFile(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'ERR_INVALID_DEVICE_DESCRIPTION',
    });
    const wrong = join(dir, 'wrong.json');
    const d = base();
    (d.fields.genlock_phase_h as Record<string, unknown>).min = 'x';
    await writeFile(wrong, JSON.stringify(d));
    await expect(loadDeviceFile(wrong)).rejects.toMatchObject({
      issues: ['fields.genlock_phase_h.min: expected a number'],
    });
  });
});

describe('device descriptions: action fields and help text', () => {
  /** The base device plus a `reboot` action on its own set topic. */
  const withAction = (action: Record<string, unknown> = { type: 'action', label: 'Reboot' }) => {
    const d = base();
    d.fields.reboot = action;
    d.topics.push({ set: 'cy-vp4/videoproc/action/set/reboot', template: '{reboot}' });
    return d;
  };

  it('accepts an action written by a template or a JSON mapping, and help on any field', () => {
    expect(parseDeviceDescription(withAction()).ok).toBe(true);
    const json = base();
    json.fields.reboot = { type: 'action', token: 'restart', help: 'Restarts the device.' };
    (json.fields.genlock_phase_h as Record<string, unknown>).help = 'Horizontal phase of the genlock.';
    json.topics.push({ set: 'x/cmd', json: { reboot: '/cmd' } });
    expect(parseDeviceDescription(json).ok).toBe(true);
  });

  it('refuses an action without a set mapping, or read from a status topic', () => {
    const unwritten = base();
    unwritten.fields.reboot = { type: 'action' };
    expect(issuesOf(unwritten)).toEqual(['fields.reboot: an action needs a "set" topic that writes it']);

    const read = withAction();
    read.topics.push({ status: 'x/reboot', pattern: '{reboot}' });
    expect(issuesOf(read)).toEqual([
      'fields.reboot: an action is never read from a status topic, but topics[2] reads it: put it in a mapping with only a "set" topic',
    ]);

    const json = base();
    json.fields.reboot = { type: 'action' };
    json.topics.push({ status: 'x/state', set: 'x/cmd', json: { reboot: '/cmd' } });
    expect(issuesOf(json)).toEqual([
      'fields.reboot: an action is never read from a status topic, but topics[1] reads it: put it in a mapping with only a "set" topic',
    ]);
  });

  it('refuses "writable" on an action (it always is), and a token on any other field', () => {
    expect(issuesOf(withAction({ type: 'action', writable: true }))).toEqual([
      'fields.reboot.writable: an action is always writable: leave "writable" out',
    ]);
    const d = base();
    (d.fields.genlock_phase_h as Record<string, unknown>).token = 'x';
    expect(issuesOf(d)).toEqual([
      'fields.genlock_phase_h.token: only action fields have a token (enum options have their own)',
    ]);
    expect(issuesOf(withAction({ type: 'action', token: '' }))).toEqual(['fields.reboot.token: must not be empty']);
  });

  it('refuses an action that shares its template with another field', () => {
    const d = withAction();
    d.topics[1] = { set: 'x/cmd', template: 'cmd {reboot} {genlock_phase_h}' };
    delete (d.topics[0] as Record<string, unknown>).set;
    delete (d.topics[0] as Record<string, unknown>).template;
    (d.fields.genlock_phase_v as Record<string, unknown>).writable = false;
    expect(issuesOf(d)).toEqual(['topics[1].template: the action "{reboot}" must be the only field of its template']);
  });

  it('refuses an action token that contains a separator of its template', () => {
    const d = withAction({ type: 'action', token: 'a;b' });
    d.topics[1] = { set: 'x/cmd', template: 'do {reboot};' };
    expect(issuesOf(d)).toEqual(['fields.reboot.token: token "a;b" contains ";", a separator of topics[1]']);
  });

  it('refuses help text that is empty, not a string or longer than 256 characters', () => {
    for (const [help, issue] of [
      ['', 'must not be empty'],
      [7, 'expected a string'],
      ['x'.repeat(257), 'longer than 256 characters'],
    ] as const) {
      const d = base();
      (d.fields.genlock_phase_h as Record<string, unknown>).help = help;
      expect(issuesOf(d)).toEqual([`fields.genlock_phase_h.help: ${issue}`]);
    }
  });

  it('shows an action in the schema as writable, with its help and never its token', () => {
    const device = defineDevice(
      withAction({ type: 'action', label: 'Reboot', token: 'SECRET', help: 'Restarts it.' }) as never,
    );
    const schema = toFieldSchemas(device).find((f) => f.name === 'reboot');
    expect(schema).toEqual({ name: 'reboot', label: 'Reboot', type: 'action', help: 'Restarts it.', writable: true });
    expect(JSON.stringify(toFieldSchemas(device))).not.toContain('SECRET');
  });
});

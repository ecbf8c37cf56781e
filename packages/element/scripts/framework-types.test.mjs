/**
 * The framework typings generator (scripts/framework-types.mjs): what it takes from the manifest,
 * that it refuses an event without a type (or a typed event without docs), and that the files in
 * dist/ are what it makes of the current manifest. Run with `node --test` (the element's `test`),
 * after `build`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventMapKeys, reactTypes, settableProps, findElement, vueTypes } from './framework-types.mjs';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

/** A manifest of the shape `cem analyze` writes, with only what the generator reads. */
function manifest({ events = ['ldf-ack', 'ldf-state'] } = {}) {
  return {
    schemaVersion: '1.0.0',
    modules: [
      {
        kind: 'javascript-module',
        path: 'src/live-device-form.ts',
        declarations: [
          {
            kind: 'class',
            name: 'LiveDeviceForm',
            customElement: true,
            tagName: 'live-device-form',
            members: [
              { kind: 'field', name: 'src', type: { text: 'string' }, description: 'The endpoint.' },
              { kind: 'field', name: 'token', type: { text: 'string | undefined' } },
              { kind: 'field', name: 'styles', static: true },
              { kind: 'field', name: 'state', readonly: true },
              { kind: 'field', name: '#fields', privacy: 'private' },
              { kind: 'field', name: 'internal', privacy: 'protected' },
              { kind: 'method', name: 'reconnect' },
            ],
            attributes: [{ name: 'src', fieldName: 'src' }, { name: 'state' }, { name: 'theme' }],
            events: events.map((name) => ({ name, description: `${name} happened.` })),
          },
        ],
      },
    ],
  };
}

const MAP_DTS = `export interface LiveDeviceFormEventMap {
    'ldf-ack': CustomEvent<AckDetail>;
    'ldf-state': CustomEvent<StateDetail>;
}`;

describe('framework typings', () => {
  it('reads the event names of LiveDeviceFormEventMap from the compiled d.ts', () => {
    assert.deepEqual(eventMapKeys(MAP_DTS), ['ldf-ack', 'ldf-state']);
    assert.throws(() => eventMapKeys('export {};'), /declares no LiveDeviceFormEventMap/);
  });

  it('offers the public writable properties and plain attributes, not read-only, static, private or methods', () => {
    const props = settableProps(findElement(manifest()));
    assert.deepEqual(
      props.map((p) => [p.name, p.type]),
      [
        ['src', "LiveDeviceForm['src']"],
        ['token', "LiveDeviceForm['token']"],
        ['theme', 'string'],
      ],
    );
  });

  it('types React 19 JSX: the tag, its properties and an onldf-* prop per event from the event map', () => {
    const text = reactTypes(manifest(), eventMapKeys(MAP_DTS));
    assert.match(
      text,
      /declare module 'react' \{\n {2}\/\/ .*\n {2}namespace JSX \{\n {4}interface IntrinsicElements \{\n {6}'live-device-form': LiveDeviceFormProps;/,
    );
    assert.match(text, /\/\*\* The endpoint\. \*\/\n {2}src\?: LiveDeviceForm\['src'\];/);
    assert.match(text, /'onldf-ack'\?: \(event: LiveDeviceFormEventMap\['ldf-ack'\]\) => void;/);
    assert.match(text, /'onldf-state'\?: \(event: LiveDeviceFormEventMap\['ldf-state'\]\) => void;/);
    assert.doesNotMatch(text, /\bstate\?:|reconnect|styles|#fields|internal/);
  });

  it("types Vue's GlobalComponents: $props from the properties, $emit from the event map", () => {
    const text = vueTypes(manifest(), eventMapKeys(MAP_DTS));
    assert.match(text, /Partial<Pick<LiveDeviceForm, 'src' \| 'token'>> & \{ theme\?: string \}/);
    assert.match(text, /'ldf-ack': \(event: LiveDeviceFormEventMap\['ldf-ack'\]\) => void;/);
    assert.match(text, /\$emit: EmitFn<LiveDeviceFormVueEvents>;/);
    assert.match(text, /interface GlobalComponents \{\n {4}'live-device-form': LiveDeviceFormVueComponent;/);
  });

  it('fails the build for an event that has no entry in LiveDeviceFormEventMap', () => {
    const m = manifest({ events: ['ldf-ack', 'ldf-state', 'ldf-new'] });
    assert.throws(() => reactTypes(m, eventMapKeys(MAP_DTS)), /not in LiveDeviceFormEventMap: ldf-new/);
    assert.throws(() => vueTypes(m, eventMapKeys(MAP_DTS)), /not in LiveDeviceFormEventMap: ldf-new/);
  });

  it('fails the build for a typed event the class does not document with @event', () => {
    const m = manifest({ events: ['ldf-ack'] });
    assert.throws(() => reactTypes(m, eventMapKeys(MAP_DTS)), /without an @event tag on the class: ldf-state/);
  });

  it('dist/react.d.ts and dist/vue.d.ts are what the current manifest and event map make', (t) => {
    const manifestPath = `${pkgDir}custom-elements.json`;
    if (!existsSync(manifestPath) || !existsSync(`${pkgDir}dist/react.d.ts`)) {
      t.skip('not built: run `pnpm run build` first');
      return;
    }
    const current = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const keys = eventMapKeys(readFileSync(`${pkgDir}dist/events.d.ts`, 'utf8'));
    // Every typed event is documented (checkedEvents checks the names), none left out.
    assert.equal(keys.length, findElement(current).events.length);
    assert.equal(readFileSync(`${pkgDir}dist/react.d.ts`, 'utf8'), reactTypes(current, keys));
    assert.equal(readFileSync(`${pkgDir}dist/vue.d.ts`, 'utf8'), vueTypes(current, keys));
  });
});

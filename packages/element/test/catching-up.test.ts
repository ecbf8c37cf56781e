/**
 * docs/protocol.md rule 11 as the page sees it (`device lagging`: "Catching up", inputs held until
 * the fresh resync), and forward compatibility: values a newer server may send that this version
 * does not know are shown cautiously and never drop the link. The server side is played by hand
 * (a fake socket in real Chromium): a real server never sends unknown values.
 */
import { expect } from '@open-wc/testing';
import type { FieldSchema, ServerFrame } from '@live-device-form/protocol';
import type { LiveDeviceForm } from '../src/live-device-form.js';
import { type FakeSocket, socketFactory } from './fakes.js';
import { FAST, control, inState, mount, next, typeInto } from './helpers.js';

const SCHEMA: FieldSchema[] = [
  { name: 'gain', label: 'Gain', type: 'integer', min: 0, max: 100, writable: true },
  { name: 'name', label: 'Name', type: 'text', writable: true },
];

function resync(device: string, extra: Partial<Extract<ServerFrame, { type: 'resync' }>> = {}): string {
  return JSON.stringify({
    type: 'resync',
    epoch: 'e1',
    device,
    schema: SCHEMA,
    fields: { gain: { value: 10, rev: 1 }, name: { value: 'cam', rev: 2 } },
    ...extra,
  });
}

/** An element whose server the test plays, live on its first resync (`first`). */
async function live(first = resync('online')): Promise<{ el: LiveDeviceForm; socket: FakeSocket }> {
  const factory = socketFactory();
  const el = mount(
    { env: 'fake', device: 'dev', src: 'ws://127.0.0.1:9/live' },
    { options: { ...FAST, socket: factory.make } },
  );
  await el.updateComplete;
  const socket = factory.last();
  socket.open();
  socket.receive(first);
  await inState(el, 'live');
  return { el, socket };
}

const statusText = (el: LiveDeviceForm) => el.shadowRoot!.querySelector('[role=status]')!.textContent;
/** Every rendered control's lock, as assistive technology reads it. */
const locked = (el: LiveDeviceForm) =>
  [...el.shadowRoot!.querySelectorAll('input[name], select[name]')].map(
    (c) => c.getAttribute('aria-readonly') === 'true',
  );

describe('catching up (device lagging)', () => {
  it('says "Catching up" and holds every input until the fresh resync', async () => {
    const { el, socket } = await live();
    expect(locked(el)).to.deep.equal([false, false, false]);
    socket.receive({ type: 'device', status: 'lagging' });
    await inState(el, 'lagging');
    expect(statusText(el)).to.equal('Catching up');
    expect(el.getAttribute('state')).to.equal('lagging');
    expect(locked(el)).to.deep.equal([true, true, true]);
    // Updates still show while it catches up; edits go nowhere.
    socket.receive({ type: 'update', field: 'gain', value: 12, rev: 3 });
    typeInto(control(el, 'input[type=text]'), 'mine');
    await el.updateComplete;
    expect(control(el, 'input[type=number]').value).to.equal('12');
    expect(socket.frames('set')).to.deep.equal([]);
    socket.receive(resync('online', { fields: { gain: { value: 13, rev: 4 }, name: { value: 'cam', rev: 2 } } }));
    await inState(el, 'live');
    expect(statusText(el)).to.equal('Live');
    expect(locked(el)).to.deep.equal([false, false, false]);
    expect(control(el, 'input[type=number]').value).to.equal('13');
    expect(socket.closedWith).to.equal(undefined);
  });

  it('a resync that says lagging shows "Catching up" too', async () => {
    const { el, socket } = await live();
    socket.receive(resync('lagging'));
    await inState(el, 'lagging');
    expect(statusText(el)).to.equal('Catching up');
    expect(locked(el)).to.deep.equal([true, true, true]);
  });
});

describe('forward compatibility: what a newer server may send', () => {
  it('an unknown device status is not live: inputs held until the next resync, the link kept', async () => {
    const { el, socket } = await live();
    socket.receive({ type: 'device', status: 'maintenance' });
    await inState(el, 'offline');
    expect(locked(el)).to.deep.equal([true, true, true]);
    socket.receive(resync('maintenance'));
    await el.updateComplete;
    expect(el.state).to.equal('offline');
    socket.receive(resync('online'));
    await inState(el, 'live');
    expect(socket.closedWith).to.equal(undefined);
  });

  it('an unknown rejection reason is shown in general words', async () => {
    const { el, socket } = await live();
    const rejected = next(el, 'ldf-rejected');
    typeInto(control(el, 'input[type=text]'), 'mine');
    const [set] = socket.frames('set');
    expect(set).to.include({ field: 'name', value: 'mine' });
    socket.receive(JSON.stringify({ type: 'ack', id: set!.id, status: 'rejected', reason: 'quota-exceeded' }));
    const detail = await rejected;
    expect(detail.reason).to.equal('quota-exceeded');
    expect(detail.message).to.equal('Not applied: the server refused this change.');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('#ldf-name-note')!.textContent).to.contain(
      'Not applied: the server refused this change.',
    );
    expect(socket.closedWith).to.equal(undefined);
    expect(el.state).to.equal('live');
  });

  it('an unknown error code is an error like any other: the close code decides, its words are shown', async () => {
    const { el, socket } = await live();
    socket.receive(JSON.stringify({ type: 'error', code: 'server-moved', message: 'moved elsewhere' }));
    await el.updateComplete;
    expect(socket.closedWith).to.equal(undefined); // the element does not drop the link for it
    socket.serverClose(4400, 'server-moved');
    await inState(el, 'failed');
    expect(el.error).to.deep.equal({ code: 4400, reason: 'server-moved', message: 'moved elsewhere' });
    expect(statusText(el)).to.equal('Protocol error: moved elsewhere');
  });

  it('an unknown field type is shown as read-only text', async () => {
    const { el, socket } = await live(
      resync('online', {
        schema: [...SCHEMA, { name: 'tint', label: 'Tint', type: 'colour' as FieldSchema['type'], writable: true }],
        fields: { gain: { value: 10, rev: 1 }, name: { value: 'cam', rev: 2 }, tint: { value: '#ff8800', rev: 3 } },
      }),
    );
    const value = control<HTMLOutputElement>(el, 'output#ldf-tint');
    expect(value.textContent).to.equal('“#ff8800”');
    expect(el.shadowRoot!.querySelector('input[name=tint]')).to.equal(null);
    expect(socket.closedWith).to.equal(undefined);
  });
});

import { expect } from '@open-wc/testing';
import type { FieldSchema, SetFrame } from '@live-device-form/protocol';
import { FieldModel } from './field-model.js';
import { wordsFor } from '../localize.js';
import { noteText } from './messages.js';

const schema: FieldSchema = { name: 'h', label: 'H', type: 'integer', min: -512, max: 511, unit: 'px', writable: true };
const en = wordsFor('en', undefined);
let nextId = 0;
const set = (value: number, rev: number): SetFrame => ({
  type: 'set',
  id: ++nextId,
  field: 'h',
  value,
  rev,
  epoch: 'e1',
});

describe('FieldModel', () => {
  describe('echoes of the user’s own writes', () => {
    it('recognises an update equal to a value it wrote and is awaiting, and moves the base revision', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      m.sent(set(5, 10));
      expect(m.update({ type: 'update', field: 'h', value: 5, rev: 11 })).to.equal(true);
      expect(m.rev).to.equal(11);
      expect(m.value).to.equal(5);
    });

    it('treats a different value as a change by the device', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      m.sent(set(5, 10));
      expect(m.update({ type: 'update', field: 'h', value: 4, rev: 11 })).to.equal(false);
      expect(m.value).to.equal(4);
    });

    it('does not jump back to an older echo while newer writes are still awaiting theirs', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      m.sent(set(1, 10));
      m.sent(set(2, 10));
      m.update({ type: 'update', field: 'h', value: 1, rev: 11 });
      expect(m.value).to.equal(2);
      m.update({ type: 'update', field: 'h', value: 2, rev: 12 });
      expect(m.value).to.equal(2);
      // Once echoed, the same value from the device is a change, not an echo.
      expect(m.update({ type: 'update', field: 'h', value: 2, rev: 13 })).to.equal(false);
    });
  });

  describe('held controls', () => {
    it('keeps a change by the device pending while held, and shows it on release', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      m.hold('7', true);
      m.update({ type: 'update', field: 'h', value: -25, rev: 11 });
      expect(m.shown).to.equal('7');
      expect(m.pending).to.deep.equal({ value: -25, rev: 11 });
      expect(m.rev).to.equal(10); // the user still edits from what they saw
      m.release();
      expect(m.value).to.equal(-25);
      expect(m.rev).to.equal(11);
      expect(m.pending).to.equal(null);
    });

    it('drops the pending change when the user’s own write echoes after it', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      m.hold('7', true);
      m.sent(set(7, 10));
      m.update({ type: 'update', field: 'h', value: -25, rev: 11 });
      m.update({ type: 'update', field: 'h', value: 7, rev: 12 });
      expect(m.pending).to.equal(null);
      m.release();
      expect(m.value).to.equal(7);
      expect(m.rev).to.equal(12);
    });
  });

  describe('acks', () => {
    it('saving until every write is answered', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      const a = set(1, 10);
      const b = set(2, 10);
      m.sent(a);
      m.sent(b);
      m.ack(a, { type: 'ack', id: a.id, status: 'accepted' });
      expect(m.note?.kind).to.equal('saving');
      m.ack(b, { type: 'ack', id: b.id, status: 'accepted' });
      expect(m.note).to.equal(null);
    });

    it('turns a stale rejection into a choice, showing the device value; apply mine writes from the fresh revision', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      const a = set(22, 10);
      m.sent(a);
      m.ack(a, { type: 'ack', id: a.id, status: 'rejected', reason: 'stale', field: 'h', value: -25, rev: 12 });
      expect(m.note).to.deep.equal({ kind: 'conflict', mine: 22 });
      expect(m.value).to.equal(-25);
      expect(noteText(en, schema, m.note!, m.device.value)).to.equal(
        'Not applied: the device changed to -25 px before your change arrived. Yours: 22 px.',
      );
      expect(m.applyMine()).to.equal(22);
      expect(m.rev).to.equal(12);
      expect(m.note).to.equal(null);
    });

    it('keep device value closes the choice without a write', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      const a = set(22, 10);
      m.sent(a);
      m.ack(a, { type: 'ack', id: a.id, status: 'rejected', reason: 'stale', field: 'h', value: -25, rev: 12 });
      m.keep();
      expect(m.note).to.equal(null);
      expect(m.value).to.equal(-25);
    });

    it('reports unknown and lost writes as not confirmed, in words', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      const a = set(1, 10);
      m.sent(a);
      m.ack(a, { type: 'ack', id: a.id, status: 'unknown' });
      expect(m.note).to.deep.equal({ kind: 'unconfirmed', cause: 'unknown' });
      const b = set(2, 10);
      m.sent(b);
      m.unconfirmed(b);
      expect(noteText(en, schema, m.note!, 0)).to.match(/^Not confirmed: the connection dropped/);
    });

    it('reverts to the device value after a refusal and says why', () => {
      const m = new FieldModel(schema, { value: 0, rev: 10 });
      const a = set(1, 10);
      m.sent(a);
      m.ack(a, { type: 'ack', id: a.id, status: 'rejected', reason: 'offline', field: 'h', value: 0, rev: 10 });
      expect(m.value).to.equal(0);
      expect(noteText(en, schema, m.note!, 0)).to.equal('Not applied: the device is offline.');
    });
  });

  it('a resync replaces everything but an open choice', () => {
    const m = new FieldModel(schema, { value: 0, rev: 10 });
    const a = set(22, 10);
    m.sent(a);
    m.ack(a, { type: 'ack', id: a.id, status: 'rejected', reason: 'stale', field: 'h', value: -25, rev: 12 });
    m.hold('9', false);
    m.resync(schema, { value: -30, rev: 3 });
    expect(m.value).to.equal(-30);
    expect(m.rev).to.equal(3);
    expect(m.held).to.equal(false);
    expect(m.note).to.deep.equal({ kind: 'conflict', mine: 22 });
  });
});

/**
 * A device's action topics read back: which fields a write from elsewhere (a message on a `set`
 * topic that this bridge did not publish, see `own-publishes.ts`) may change. Nothing read here is
 * ever stored, shown or published: only the names of the fields count (docs/protocol.md,
 * *Several server processes*).
 *
 * Per mapping kind (docs/devices.md):
 * - **pattern**: the payload is checked against the `template` (as strictly as a status against
 *   its `pattern`); it names every field of the template either way.
 * - **json**: the fields whose JSON pointer is present in the payload (a write of one field with
 *   `send: "changed"` names that field only); a payload that is not a JSON object names every field
 *   of the mapping; one with none of its pointers names none.
 * - **custom**: every field of the mapping (a custom mapping has no way to read its action payloads).
 *
 * A payload that cannot be read (not matching the template, not JSON, larger than the bridge's
 * `maxPayloadBytes`) names every field of its mapping, with a `problem` for the log: the device might
 * still act on it, so the safe side is to count it as a write of all of them.
 * @module
 */
import type { FieldDescription, DeviceDescription, PatternTopicDescription } from './device/types.js';
import { topicKind, type JsonTopicDescription } from './device/types.js';
import { createTopicCodec } from './codecs/index.js';
import { createPatternCodec } from './codecs/pattern-codec.js';
import { getPointer, parseJsonPointer } from './codecs/json-pointer.js';

/** What a message on an action topic may change. */
export interface ActionRead {
  /** The fields it may write. */
  readonly fields: readonly string[];
  /** Why the payload could not be read (it then names every field of its mapping); `undefined` when it could. */
  readonly problem: string | undefined;
}

/** A device's action topics and how to read what was sent on them. */
export interface ActionTopics {
  /** Every action (`set`) topic of the device. */
  readonly topics: readonly string[];
  /** Whether `topic` is one of them. */
  has(topic: string): boolean;
  /** What a message on action topic `topic` may change; `undefined` when it is not one. Never throws. */
  read(topic: string, payload: Buffer, maxPayloadBytes: number): ActionRead | undefined;
}

type Reader = (payload: Buffer) => ActionRead;

/** Reads action payloads of a pattern mapping: the template, read like a status pattern. */
function patternReader(
  entry: PatternTopicDescription,
  fields: Readonly<Record<string, FieldDescription>>,
  all: readonly string[],
): Reader {
  const asStatus = createPatternCodec({ status: entry.set, pattern: entry.template }, fields);
  return (payload) => {
    const r = asStatus.decode(payload);
    return { fields: all, problem: r.ok ? undefined : r.message.replace('the pattern', 'the template') };
  };
}

/** Reads action payloads of a JSON mapping: the fields whose pointer is present. */
function jsonReader(entry: JsonTopicDescription, all: readonly string[]): Reader {
  const pointers = Object.entries(entry.json as Record<string, string>).map(([name, p]) => {
    const r = parseJsonPointer(p);
    return { name, segments: r.ok ? r.segments : [] };
  });
  return (payload) => {
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch {
      return { fields: all, problem: 'payload is not valid JSON' };
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      return { fields: all, problem: 'payload is not a JSON object' };
    return {
      fields: pointers.filter((p) => getPointer(doc, p.segments) !== undefined).map((p) => p.name),
      problem: undefined,
    };
  };
}

/** Builds the action topics of a valid device description (see `defineDevice`). */
export function createActionTopics(device: DeviceDescription): ActionTopics {
  const fields = device.fields as Readonly<Record<string, FieldDescription>>;
  const readers = new Map<string, { all: readonly string[]; read: Reader }>();
  for (const entry of device.topics) {
    const codec = createTopicCodec(entry, fields);
    if (codec.set === undefined) continue;
    const all = Object.freeze([...codec.writes]);
    let read: Reader;
    switch (topicKind(entry)) {
      case 'pattern':
        read = patternReader(entry as PatternTopicDescription, fields, all);
        break;
      case 'json':
        read = jsonReader(entry as JsonTopicDescription, all);
        break;
      case 'custom':
        read = () => ({ fields: all, problem: undefined });
        break;
    }
    readers.set(codec.set, { all, read });
  }
  return {
    topics: Object.freeze([...readers.keys()]),
    has: (topic) => readers.has(topic),
    read(topic, payload, maxPayloadBytes) {
      const reader = readers.get(topic);
      if (!reader) return undefined;
      if (payload.length > maxPayloadBytes)
        return { fields: reader.all, problem: `payload larger than maxPayloadBytes (${maxPayloadBytes})` };
      try {
        return reader.read(payload);
      } catch (err) {
        // Defensive: the readers do not throw; if one did, count the message as writing everything.
        return { fields: reader.all, problem: `payload could not be read: ${String(err)}` };
      }
    },
  };
}

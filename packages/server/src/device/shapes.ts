/**
 * The shape of a device description, in zod: which keys exist and what type each value has. Only
 * the shape; what zod cannot say (a field read twice, a separator in a token) is `checks.ts`'s job.
 * The error map turns zod's issues into plain English, so a path reads `…min: expected a number`.
 * @module
 */
import { z } from 'zod';
import { MAX_ABS_NUMBER, MAX_LABEL_LENGTH, MAX_OPTIONS, MAX_TEXT_LENGTH } from '@live-device-form/protocol';

const finite = z.number().refine((n) => Number.isFinite(n) && Math.abs(n) <= MAX_ABS_NUMBER, {
  message: `expected a finite number within ±${MAX_ABS_NUMBER}`,
});
const label = z.string().min(1).max(MAX_LABEL_LENGTH);
const token = z.string().max(MAX_TEXT_LENGTH);

/** One field: every key any field type may have; which type may have which is checked after. */
export const fieldShape = z.strictObject({
  label: label.optional(),
  type: z.enum(['number', 'integer', 'boolean', 'enum', 'text', 'action']),
  help: z.string().min(1).max(MAX_LABEL_LENGTH).optional(),
  writable: z.boolean().optional(),
  min: finite.optional(),
  max: finite.optional(),
  step: finite.optional(),
  unit: z.string().max(MAX_LABEL_LENGTH).optional(),
  true: token.optional(),
  false: token.optional(),
  options: z
    .array(
      z.strictObject({
        value: z.string().min(1).max(MAX_TEXT_LENGTH),
        token: token.optional(),
        label: label.optional(),
      }),
    )
    .max(MAX_OPTIONS)
    .optional(),
  maxLength: z.number().int().min(1).max(MAX_TEXT_LENGTH).optional(),
  /** An action's payload (docs/devices.md). */
  token: z.string().min(1).max(MAX_TEXT_LENGTH).optional(),
});

const topicString = z.string().min(1);

/** Most topics an availability list may name. */
export const MAX_AVAILABILITY_TOPICS = 8;

/** One availability topic; `decode` only from TypeScript (checked after). */
export const availabilityShape = z.strictObject({
  topic: topicString,
  online: token.optional(),
  offline: token.optional(),
  json: z.string().max(MAX_TEXT_LENGTH).optional(),
  decode: z.function().optional(),
});

/** An availability list; its topics are shaped one by one in the checks. */
export const availabilityListShape = z.strictObject({
  topics: z.array(z.unknown()).min(1).max(MAX_AVAILABILITY_TOPICS),
  mode: z.enum(['all', 'any', 'latest']).optional(),
});

/** A pattern mapping (`pattern`/`template`). */
export const patternTopicShape = z.strictObject({
  status: topicString.optional(),
  pattern: z.string().min(1).max(MAX_TEXT_LENGTH).optional(),
  set: topicString.optional(),
  template: z.string().min(1).max(MAX_TEXT_LENGTH).optional(),
});

/** A JSON mapping (`json`). */
export const jsonTopicShape = z.strictObject({
  status: topicString.optional(),
  set: topicString.optional(),
  json: z.record(z.string(), z.string().max(MAX_TEXT_LENGTH)),
  send: z.enum(['changed', 'all']).optional(),
});

/** A custom mapping (`fields`/`decode`/`encode`; TypeScript only). */
export const customTopicShape = z.strictObject({
  status: topicString.optional(),
  set: topicString.optional(),
  fields: z.array(z.string()).min(1),
  decode: z.function().optional(),
  encode: z.function().optional(),
});

/** The top level; `topics` (by kind) and `availability` (one topic or a list) are shaped in the checks. */
export const deviceShape = z.strictObject({
  id: z.string(),
  availability: z.unknown().optional(),
  topics: z.array(z.unknown()).min(1),
  fields: z.record(z.string(), fieldShape),
});

const ARTICLE: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
  function: 'a function',
  int: 'an integer',
};

/** Plain-English messages for zod's issue codes, so a path reads `…min: expected a number`. */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  if ((iss.code === 'invalid_type' || iss.code === 'invalid_value') && iss.input === undefined) return 'required';
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${ARTICLE[iss.expected] ?? iss.expected}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (iss.origin === 'string')
        return Number(iss.minimum) <= 1 ? 'must not be empty' : `shorter than ${iss.minimum} characters`;
      if (iss.origin === 'array')
        return `expected at least ${iss.minimum} entr${Number(iss.minimum) === 1 ? 'y' : 'ies'}`;
      return `must be at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `longer than ${iss.maximum} characters`;
      if (iss.origin === 'array') return `more than ${iss.maximum} entries`;
      return `must be at most ${iss.maximum}`;
    default:
      return undefined;
  }
};

/** A field as its shape allows it, before the semantic checks. */
export type FieldShape = z.infer<typeof fieldShape>;

/**
 * The independent checker. It decides, from the run's records alone — frames as they crossed the
 * proxy on the server's side, messages as the broker delivered them to the checker's own
 * subscription, and the faults the run caused — whether the SDK kept its promises. It reads
 * frames as plain JSON and payloads with its own decoders; it never asks the SDK anything.
 *
 * Definitions (docs/reliability.md states them for readers):
 *
 * - A **set** is a `set` frame the proxy delivered to the server. Its **basis** is the latest frame
 *   before it in which the server showed that client (on any of its connections, same epoch first)
 *   the set's field at the set's `rev` (a `resync`, an `update`, or a rejection carrying the
 *   field's state): a value `x` at time `tb`. The basis point on the broker `tx` is the latest
 *   status message that changed the field to `x`, observed no later than `tb + W`.
 * - A **publish** is an action message on a device's `set` topic. Each must be explained by exactly
 *   one set of a client of that device whose value it carries, received before it, answered
 *   `accepted`, `unknown`, or not answered because its connection ended first.
 * - A publish is **stale** when a status message changed its written field after `tx` and before the
 *   publish to a value that this client never wrote (the device's own change, a clamped echo, or
 *   another client's write). For a composite payload, every other field must carry the broker's
 *   latest status or the value of a write published earlier and not yet echoed (within the echo
 *   timeout), docs/protocol.md rule 4.
 * - The **in-flight race**: an offending status change that reached the broker less than `W` ms
 *   before the publish, or after the set reached the server, is a **near-miss**, reported, not a
 *   violation. The same window applies to a publish right after the device said offline, and to a
 *   publish observed right after its session's server side ended.
 *
 * The checker's phases live in `checker/`, one module each, and `checkRun` (`checker/check-run.ts`)
 * calls them in order: the broker's side (`broker-side.ts`), the connections' side
 * (`connections.ts`), which broker connection carried a publish and publishes ↔ sets
 * (`matching.ts`), writes from an earlier epoch's revisions (`old-epoch.ts`), who caused which value and what pages were shown (`attribution.ts`), each
 * publish (`publishes.ts`), writes across server processes (`cross-process.ts`), faults: were pages told? (`told.ts`), and update latency
 * (`latency.ts`).
 * @module
 */
export { checkRun } from './checker/check-run.js';
export { creatorOf } from './checker/attribution.js';
export type {
  CheckCounts,
  CheckResult,
  CheckerConfig,
  NearMiss,
  OldEpochCounts,
  Violation,
  ViolationKind,
} from './checker/types.js';

/**
 * One status-flood set-up in its own process, for figure 10 (`figures/status-flood.ts`): the relay
 * under test (the project's server, or the bare relay), its pages that never read and the reading
 * page, all from the testkit's {@link openIngressFlood}. A process of its own, so that the bare
 * relay's backlog (up to the 2 GiB limit) and the sockets' buffers are gone when it exits.
 *
 * Calls: `open` (the {@link IngressFloodOptions}), then `flood` `{ rate, durationMs }` as often as
 * wanted, each answered with its {@link IngressFloodReport}.
 * @module
 */
import {
  type IngressFloodOptions,
  type IngressFloodReport,
  type IngressFloodRig,
  openIngressFlood,
} from '@live-device-form/testkit';
import { serveCalls } from './proc.js';

let rig: IngressFloodRig | undefined;

serveCalls(
  {
    async open(options: IngressFloodOptions): Promise<void> {
      if (rig) throw new Error('already open');
      rig = await openIngressFlood(options);
    },
    flood(args: { rate: number; durationMs: number }): Promise<IngressFloodReport> {
      if (!rig) throw new Error('open first');
      return rig.flood(args.rate, args.durationMs);
    },
  },
  () => rig?.close(),
);

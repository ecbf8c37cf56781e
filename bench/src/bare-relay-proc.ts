/**
 * The bare relay (the testkit's {@link startBareRelay}) in its own process, for figure 9: the
 * baseline page's server, alone in its process like the project's CLI.
 *
 * Call: `listen` {@link BareRelayOptions} → `{ url }`.
 * @module
 */
import { type BareRelay, type BareRelayOptions, startBareRelay } from '@live-device-form/testkit';
import { serveCalls } from './proc.js';

let relay: BareRelay | undefined;

serveCalls(
  {
    async listen(options: BareRelayOptions): Promise<{ url: string }> {
      if (relay) throw new Error('already listening');
      relay = await startBareRelay(options);
      return { url: relay.url };
    },
  },
  () => relay?.close(),
);

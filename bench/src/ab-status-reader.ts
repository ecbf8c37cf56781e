/**
 * The reading side of `ab-status.ts`, in a process of its own (as figure 1's browser is): one
 * WebSocket client per variant that reads every frame, and says when the frame carrying an armed
 * tag arrived, on the shared clock (`clock.ts`).
 * @module
 */
import { WebSocket } from 'ws';
import { now } from './clock.js';
import { sendEvent, serveCalls } from './proc.js';

const clients = new Map<string, WebSocket>();
const armed = new Map<string, string>();

serveCalls(
  {
    /** Opens client `name`; resolves at its first frame that starts with `readyPrefix`. */
    connect({
      name,
      url,
      protocol,
      first,
      readyPrefix,
    }: {
      name: string;
      url: string;
      protocol?: string;
      first: string;
      readyPrefix: string;
    }) {
      const ws = new WebSocket(url, protocol ? [protocol] : []);
      clients.set(name, ws);
      return new Promise<void>((ok, fail) => {
        ws.once('error', fail);
        ws.once('open', () => ws.send(first));
        ws.on('message', (data) => {
          const t = now();
          const text = data.toString();
          if (text.startsWith(readyPrefix)) ok();
          const tag = armed.get(name);
          if (tag !== undefined && text.includes(tag)) {
            armed.delete(name);
            sendEvent('got', { tag, t });
          }
        });
      });
    },
    /** The next frame of client `name` that contains `tag` is reported (`got`). */
    arm({ name, tag }: { name: string; tag: string }) {
      armed.set(name, tag);
    },
  },
  () => {
    for (const ws of clients.values()) ws.terminate();
  },
);

/**
 * The page's side of the demo's control API (`/demo/api/`): POSTs for the buttons and the SSE
 * stream of the MQTT log and the demo's state.
 * @module
 */
import type { DemoState } from '../control-api.js';
import type { LogEntry } from '../mqtt-log.js';

export type { DemoState, LogEntry };

/** POSTs JSON to the control API; throws with the server's message on an error status. */
export async function post<T = unknown>(route: 'cut' | 'hardware' | 'protection' | 'lamp', body: unknown): Promise<T> {
  const res = await fetch(`/demo/api/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
  return json;
}

/** Follows the demo's event stream; the browser reconnects it by itself. Returns the function that closes it. */
export function follow(handlers: {
  state(s: DemoState): void;
  log(e: LogEntry): void;
  connected?(on: boolean): void;
}): () => void {
  const source = new EventSource('/demo/api/events');
  let seen = 0;
  source.addEventListener('state', (e) => handlers.state(JSON.parse((e as MessageEvent<string>).data) as DemoState));
  source.addEventListener('log', (e) => {
    const entry = JSON.parse((e as MessageEvent<string>).data) as LogEntry;
    // After a reconnect the backlog is sent again: skip what was shown already.
    if (entry.seq <= seen) return;
    seen = entry.seq;
    handlers.log(entry);
  });
  source.addEventListener('open', () => handlers.connected?.(true));
  source.addEventListener('error', () => handlers.connected?.(false));
  return () => source.close();
}

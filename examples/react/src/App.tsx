// The typings of <live-device-form> for React 19's JSX (props, onldf-* events with typed detail).
import type {} from '@live-device-form/element/react';
import type { AckDetail } from '@live-device-form/element';
import { useState } from 'react';

/** The CLI's WebSocket endpoint; `?src=` overrides it (the example's test uses its own port). */
const src = new URLSearchParams(location.search).get('src') ?? 'ws://127.0.0.1:8080/live';

export function App() {
  const [lastAck, setLastAck] = useState<AckDetail['status'] | ''>('');
  const [renders, setRenders] = useState(1);

  return (
    <main>
      <h1>Video processor</h1>

      {/* Rendered from the device's schema. React 19 adds an `onldf-ack` prop as an `ldf-ack` listener. */}
      <live-device-form id="auto" src={src} device="videoproc" onldf-ack={(e) => setLastAck(e.detail.status)} />
      <p>
        Last write: <span id="last-ack">{lastAck}</span>
      </p>

      {/* Bound mode: your own input. Leave it uncontrolled (no `value`, no `defaultValue` that changes):
          the element owns its value, and reads of it come from the ldf-update / ldf-ack events. */}
      <live-device-form id="bound" src={src} device="videoproc">
        <label>
          Phase H <input name="genlock_phase_h" type="number" />
        </label>
      </live-device-form>

      <button type="button" id="rerender" onClick={() => setRenders((n) => n + 1)}>
        Re-render
      </button>
      <span id="renders">{renders}</span>
    </main>
  );
}

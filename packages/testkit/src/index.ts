/**
 * `@live-device-form/testkit`: the project's test harness, shared by the server, element, demo,
 * chaos and bench suites. Private: never published, never built (its consumers run TypeScript
 * through vitest or tsx). Real components only: loopback sockets, real brokers, Debian's Chromium.
 * @module
 */
export * from './fault-proxy.js';
export * from './taps.js';
export * from './ws-frames.js';
export * from './mqtt-packets.js';
export * from './chromium.js';
export * from './free-port.js';
export * from './mosquitto.js';
export * from './witness.js';
export * from './bridge-events.js';
export * from './echo-device.js';
export * from './devices.js';
export * from './harness.js';
export * from './held-publishes.js';
export * from './cli-process.js';
export * from './tls-cert.js';
export * from './stats.js';
export * from './fresh-values.js';
export * from './raw-ws.js';
export * from './flood-publisher.js';
export * from './bare-relay.js';
export * from './ingress-flood.js';
export * from './haproxy.js';
export * from './nginx.js';
export * from './cluster.js';
export * from './discovery-fixtures.js';

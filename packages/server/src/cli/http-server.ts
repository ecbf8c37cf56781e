/**
 * The CLI's HTTP server: plain, or HTTPS with the `--tls-cert`/`--tls-key` pair, with short
 * timeouts so that a client dribbling its request (or its TLS handshake) is cut off. See
 * docs/cli.md, *Flags*.
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import { secureContextOptions, type TlsPair } from './tls.js';

/** How long Node waits between two checks of the header and request timeouts, at most. */
const MAX_CHECK_INTERVAL_MS = 1000;

/** Options of {@link createCliHttpServer}. */
export interface CliHttpServerOptions {
  /** Serve HTTPS (and so `wss://`) with this pair; without it, plain HTTP (`ws://`). */
  tls?: TlsPair;
  /**
   * Milliseconds a client has to send its whole request (the WebSocket upgrade), and to finish its
   * TLS handshake. Node checks every `min(headersTimeoutMs, 1 s)`, so a slow client is cut off
   * within that much more.
   */
  headersTimeoutMs: number;
  /** Answers plain HTTP requests (the CLI's router, cli/router.ts; the upgrades go to the `upgrade` listener). */
  onRequest: http.RequestListener;
}

/** Creates (does not start) the server; {@link CliHttpServerOptions.tls} decides HTTP or HTTPS. */
export function createCliHttpServer(options: CliHttpServerOptions): http.Server | https.Server {
  const timeouts: http.ServerOptions = {
    headersTimeout: options.headersTimeoutMs,
    // The server takes no request bodies (its routes are GET and HEAD only): the whole request is
    // its headers.
    requestTimeout: options.headersTimeoutMs,
    // Node's default of 30 s would let a dribbling client hold its socket that long whatever the timeout.
    connectionsCheckingInterval: Math.min(options.headersTimeoutMs, MAX_CHECK_INTERVAL_MS),
  };
  if (options.tls === undefined) return http.createServer(timeouts, options.onRequest);
  return https.createServer(
    { ...timeouts, ...secureContextOptions(options.tls), handshakeTimeout: options.headersTimeoutMs },
    options.onRequest,
  );
}

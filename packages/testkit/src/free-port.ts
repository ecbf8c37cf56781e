/**
 * A free TCP port on loopback, for test brokers and proxies.
 * @module
 */
import { createServer } from 'node:net';

/** Asks the kernel for a free port on `host` and releases it. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * examples/express: an Express 5 backend with the SDK attached as docs/server.md shows it.
 */
import { describeApp } from './apps.js';
import { backendWorld, itServesAndShutsDown } from './backend.js';

describeApp('express', () => {
  itServesAndShutsDown(backendWorld('express'));
});

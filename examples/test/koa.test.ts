/**
 * examples/koa: a Koa 3 backend with the SDK attached as docs/server.md shows it.
 */
import { describeApp } from './apps.js';
import { backendWorld, itServesAndShutsDown } from './backend.js';

describeApp('koa', () => {
  itServesAndShutsDown(backendWorld('koa'));
});

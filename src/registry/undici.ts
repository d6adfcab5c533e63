/**
 * The parts of undici the transport uses, loaded on their own. undici's index loads every feature it has (fetch,
 * WebSocket, caches, mocks, interceptors): about 30 ms of every command's start-up, for nothing used here.
 * Like the index, this gives dispatchers their API methods (request, connect used by the proxy agents).
 */
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';
import Agent from 'undici/lib/dispatcher/agent.js';

for (const [name, method] of Object.entries(api)) {
  if (!(name in Dispatcher.prototype)) Object.defineProperty(Dispatcher.prototype, name, { value: method, writable: true, configurable: true });
}

export { Agent };

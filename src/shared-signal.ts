/** One abort signal for the many concurrent requests of an operation. */
import { setMaxListeners } from 'node:events';

const SOURCES = Symbol('sources');

/**
 * Combines signals (undefined ones are skipped) into a new one that dozens of concurrent requests may listen on:
 * Node would otherwise warn of a listener leak, on the caller's own signal. Undefined when there is none to follow.
 */
export function sharedSignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  if (given.length === 0) return undefined;
  const signal = AbortSignal.any(given);
  setMaxListeners(0, signal);
  // AbortSignal.any holds its sources weakly: Node 20 collects an AbortSignal.timeout() nobody else holds, and its
  // deadline then never fires. The combined signal keeps them alive for as long as it is itself in use.
  Object.defineProperty(signal, SOURCES, { value: given });
  return signal;
}

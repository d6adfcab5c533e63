// What the floors that talk HTTP with none of our code share (floor-exit, floor-inspect, floor-push): the parts of
// undici the CLI's transport loads (src/registry/undici.ts), loaded as the CLI loads them, with V8's
// --liftoff-only set first (src/cli/registry-options.ts), and one agent to send through.
import { setFlagsFromString } from 'node:v8';

/** undici's answer, as far as the floors read it. */
export interface Answer {
  statusCode: number;
  body: { arrayBuffer(): Promise<ArrayBuffer>; text(): Promise<string>; dump(): Promise<void> };
}

export interface FloorRequest {
  origin: string;
  path: string;
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** Loads undici as the CLI does and returns a function sending requests through one agent. */
export async function loadUndici(): Promise<(request: FloorRequest) => Promise<Answer>> {
  setFlagsFromString('--liftoff-only');
  const [{ default: api }, { default: Agent }] = await Promise.all([import('undici/lib/api/index.js'), import('undici/lib/dispatcher/agent.js')]);
  const agent = new Agent();
  const request = api.request as (this: unknown, options: FloorRequest) => Promise<Answer>;
  return (options) => request.call(agent, options);
}

/** `host/repo:tag` as the floors take it from a plain-HTTP registry: origin, repository, tag. */
export function splitReference(reference: string): { origin: string; repository: string; tag: string } {
  const slash = reference.indexOf('/');
  const colon = reference.lastIndexOf(':');
  return { origin: `http://${reference.slice(0, slash)}`, repository: reference.slice(slash + 1, colon), tag: reference.slice(colon + 1) };
}

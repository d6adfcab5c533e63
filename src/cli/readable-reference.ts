/**
 * The reference of a command that reads a static store (dir:, s3://) directly as well as a registry: inspect and
 * digest. A static store is read where it lies, with no registry and so no client.
 */
import type { Reference } from '../ref.js';
import type { ActionContext } from './command-context.js';

/** Parses `text` and returns it with the client to read it with (none for a static store). */
export async function readableReference(text: string, action: Pick<ActionContext, 'client'>): Promise<{ ref: Reference; client?: Awaited<ReturnType<ActionContext['client']>> }> {
  const { isStaticReference, parseStoreOrRegistryReference } = await import('../store/static-location.js');
  const ref = parseStoreOrRegistryReference(text);
  return isStaticReference(ref) ? { ref } : { ref, client: await action.client(ref) };
}

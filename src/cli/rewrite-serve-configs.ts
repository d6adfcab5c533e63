/**
 * After a command changed the manifests of dir: stores (a push, static rm, static gc), rewrites the web server
 * configurations `static serve-config --write` left in them, which list every manifest the server answers for,
 * and says so on stderr: the server still has to reload them.
 */
import type { StaticLocation } from '../store/static-location.js';
import type { ActionContext } from './command-context.js';

export async function rewriteServeConfigs(stores: readonly StaticLocation[], context: Pick<ActionContext, 'signal' | 'logger'>): Promise<void> {
  if (stores.length === 0) return;
  const { regenerateWrittenConfigs } = await import('../manifest/serve-config.js');
  for (const store of stores) {
    for (const path of await regenerateWrittenConfigs(store, { signal: context.signal })) context.logger.warn(`rewrote ${path}: reload the web server`);
  }
}

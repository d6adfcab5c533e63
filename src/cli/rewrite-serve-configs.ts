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
    let paths: string[];
    try {
      paths = await regenerateWrittenConfigs(store, { signal: context.signal });
    } catch (err) {
      // The store's change is done: a configuration that could not follow is said, not turned into a failure.
      const { formatStaticLocation } = await import('../store/static-location.js');
      context.logger.warn(`the web server configuration of ${formatStaticLocation(store)} could not be rewritten (${err instanceof Error ? err.message : String(err)}): run manifest static serve-config --write`);
      continue;
    }
    for (const path of paths) context.logger.warn(`rewrote ${path}: reload the web server`);
  }
}

// Types for the parts of undici src/registry/undici.ts loads on their own; the types are undici's own.
declare module 'undici/lib/dispatcher/dispatcher.js' {
  import { Dispatcher } from 'undici';
  export default Dispatcher;
}

declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}

declare module 'undici/lib/dispatcher/proxy-agent.js' {
  import { ProxyAgent } from 'undici';
  export default ProxyAgent;
}

declare module 'undici/lib/api/index.js' {
  /** The methods undici's index copies onto Dispatcher.prototype: request, stream, pipeline, upgrade, connect. */
  const api: Record<string, unknown>;
  export default api;
}

// A plain-HTTP reverse proxy on loopback that adds a fixed one-way delay in each direction, so a loopback registry
// behaves like a distant one: every request costs one round trip and every new TCP connection one more (its
// handshake). It records when each exchange started and ended, which is enough to count the sequential rounds a
// client makes. For benchmarks only; test/helpers/proxy.ts is the proxy tests use, and it stays delay-free.
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** One exchange as the client experiences it, in performance.now() milliseconds. */
export interface ProxyEvent {
  /** 'connect' for a TCP handshake, 'tls-probe' for bytes that were not HTTP (a client trying TLS first), else the HTTP method. */
  kind: string;
  /** Request path, or '' for connect and tls-probe. */
  url: string;
  status: number;
  /** Which client connection carried it (1, 2, …). */
  connection: number;
  /** When the client could first send it (after the connection's simulated handshake). */
  start: number;
  /** When the client had the whole answer. */
  end: number;
}

/** A running delaying proxy. */
export interface DelayProxy {
  /** "127.0.0.1:PORT". */
  readonly host: string;
  /** Events since the last reset(), in the order they ended. */
  events(): readonly ProxyEvent[];
  reset(): void;
  stop(): Promise<void>;
}

/** Tracked per client connection: its number and when its simulated handshake completes. */
interface ConnectionState {
  id: number;
  readyAt: number;
}

/** Waits until performance.now() reaches `at` (no-op if it already has). */
async function sleepUntil(at: number): Promise<void> {
  const remaining = at - performance.now();
  if (remaining > 0) await sleep(remaining);
}

/**
 * Starts the proxy in front of `target` ("http://127.0.0.1:PORT"). A request is forwarded `oneWayMs` after the
 * client could have sent it and its answer is released `oneWayMs` after the registry gave it, so the client sees
 * 2 × oneWayMs per request; the first request on a connection also waits out a simulated handshake of
 * 2 × oneWayMs, as SYN and SYN-ACK would take on a real network.
 */
export async function startDelayProxy(target: string, oneWayMs: number): Promise<DelayProxy> {
  const upstream = new URL(target);
  // Keep-alive towards the registry: the simulated distance is between client and proxy, not proxy and registry.
  const agent = new Agent({ keepAlive: true });
  const connections = new WeakMap<Socket, ConnectionState>();
  let events: ProxyEvent[] = [];
  let connectionCount = 0;

  const stateOf = (socket: Socket): ConnectionState => {
    let state = connections.get(socket);
    if (state === undefined) {
      // Only reached if 'connection' did not run first; treat the socket as just opened.
      state = { id: ++connectionCount, readyAt: performance.now() + 2 * oneWayMs };
      connections.set(socket, state);
    }
    return state;
  };

  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const state = stateOf(req.socket);
    // On loopback the client wrote the request the moment it connected; on a real network it could only write
    // it after the handshake, so the exchange starts then.
    const start = Math.max(performance.now(), state.readyAt);
    await sleepUntil(start + oneWayMs);
    const upstreamRes = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = httpRequest({
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      }, resolve);
      out.on('error', reject);
      req.pipe(out);
    });
    await sleep(oneWayMs);
    res.on('finish', () => {
      events.push({ kind: req.method ?? 'GET', url: req.url ?? '/', status: upstreamRes.statusCode ?? 0, connection: state.id, start, end: performance.now() });
    });
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
    upstreamRes.pipe(res);
  };

  const server = createServer((req, res) => {
    forward(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    const acceptedAt = performance.now();
    const state: ConnectionState = { id: ++connectionCount, readyAt: acceptedAt + 2 * oneWayMs };
    connections.set(socket, state);
    events.push({ kind: 'connect', url: '', status: 0, connection: state.id, start: acceptedAt, end: state.readyAt });
  });
  // A client that tries TLS first (docker does, for registries it treats as insecure) sends a ClientHello, which
  // is not HTTP. Answer it the way a plain-HTTP registry would, a 400, but only after the simulated round trip.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Only parse errors (HPE_…) are probes; a reset or timeout is a client giving up, with nothing to answer.
    if (!(err.code ?? '').startsWith('HPE_') || !socket.writable) {
      socket.destroy();
      return;
    }
    const state = stateOf(socket);
    const start = Math.max(performance.now(), state.readyAt);
    void sleepUntil(start + 2 * oneWayMs).then(() => {
      events.push({ kind: 'tls-probe', url: '', status: 400, connection: state.id, start, end: performance.now() });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    events: () => events,
    reset: () => {
      events = [];
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * Groups exchanges into the sequential rounds a client waited for: an exchange's round is the length of the
 * longest chain of exchanges ending with it, in which each one started only after the previous one had ended.
 * Exchanges in flight at the same time share a round. Round i (0-based) holds the exchanges of depth i + 1.
 */
export function roundsOf(events: readonly ProxyEvent[]): ProxyEvent[][] {
  const sorted = [...events].sort((a, b) => a.start - b.start || a.connection - b.connection);
  const depth: number[] = [];
  const rounds: ProxyEvent[][] = [];
  for (const [i, event] of sorted.entries()) {
    let best = 0;
    for (let j = 0; j < i; j++) {
      const earlier = sorted[j];
      const earlierDepth = depth[j];
      if (earlier !== undefined && earlierDepth !== undefined && earlier.end <= event.start && earlierDepth > best) best = earlierDepth;
    }
    depth.push(best + 1);
    (rounds[best] ??= []).push(event);
  }
  return rounds;
}

/**
 * The longest chain of exchanges in which each one started only after the previous one had ended: the number of
 * round trips a client waited for one after another. Exchanges in flight at the same time count once.
 */
export function sequentialRounds(events: readonly ProxyEvent[]): number {
  return roundsOf(events).length;
}

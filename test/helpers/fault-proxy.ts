// A proxy on loopback in front of a real registry that injects faults into a fixed share of requests, chosen by
// a seeded generator so a run can be replayed: connection resets before an answer, answers cut off half-way
// through their body, 503s, 429s with Retry-After, and delays.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { forwardRequest } from './proxy.js';

/** A fault the proxy can inject. */
export type FaultKind = 'reset' | 'cut' | 'unavailable' | 'rate-limit' | 'delay';

/** Options of startFaultProxy. */
export interface FaultProxyOptions {
  /** Share of requests that get a fault, from 0 to 1. */
  rate: number;
  /** Seed of the generator that picks requests and faults. */
  seed: number;
  /** Faults to draw from, equally likely; default all five. */
  kinds?: readonly FaultKind[];
  /** Retry-After seconds of injected 429s; default 1. */
  retryAfterSeconds?: number;
  /** Milliseconds a delayed request waits before it is forwarded; default 300. */
  delayMs?: number;
}

/** A running fault proxy and what it did. */
export interface FaultProxy {
  /** "127.0.0.1:PORT". */
  host: string;
  /** Requests seen, and faults injected by kind. */
  counts(): { requests: number } & Record<FaultKind, number>;
  stop(): Promise<void>;
}

/** mulberry32: a small, seedable generator; quality is ample for picking faults. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Forwards a request, passes on the answer's headers and the first half of its first body chunk, then closes the
 * connection: the client has its headers, so only a retry of the whole request can recover.
 */
function forwardCut(req: IncomingMessage, res: ServerResponse, upstream: URL): void {
  const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    res.flushHeaders();
    answer.once('data', (chunk: Buffer) => {
      answer.destroy();
      res.write(chunk.subarray(0, Math.floor(chunk.length / 2)), () => { res.socket?.destroy(); });
    });
    answer.once('end', () => { res.socket?.destroy(); });
  });
  out.on('error', () => { res.destroy(); });
  req.pipe(out);
}

/** Starts a fault-injecting proxy to `target` ("http://127.0.0.1:PORT"). */
export async function startFaultProxy(target: string, options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(target);
  const random = generator(options.seed);
  const kinds = options.kinds ?? ['reset', 'cut', 'unavailable', 'rate-limit', 'delay'];
  const counts = { requests: 0, reset: 0, cut: 0, unavailable: 0, 'rate-limit': 0, delay: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    counts.requests++;
    const fault = random() < options.rate ? kinds[Math.floor(random() * kinds.length)] : undefined;
    const forward = (): void => forwardRequest(req, res, upstream);
    if (fault !== undefined) counts[fault]++;
    switch (fault) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'cut':
        forwardCut(req, res, upstream);
        return;
      case 'unavailable':
      case 'rate-limit': {
        req.resume();
        const status = fault === 'unavailable' ? 503 : 429;
        const code = fault === 'unavailable' ? 'UNAVAILABLE' : 'TOOMANYREQUESTS';
        const body = JSON.stringify({ errors: [{ code, message: 'injected by the fault proxy' }] });
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          ...(fault === 'rate-limit' ? { 'retry-after': String(options.retryAfterSeconds ?? 1) } : {}),
        });
        res.end(body);
        return;
      }
      case 'delay': {
        const timer = setTimeout(() => { timers.delete(timer); forward(); }, options.delayMs ?? 300);
        timers.add(timer);
        return;
      }
      default:
        forward();
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    stop: () => new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

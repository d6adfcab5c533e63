// A small HTTP proxy on loopback in front of a real registry: it records every request, and a rule may answer
// a request itself or rewrite the registry's response headers. It reproduces registry quirks and lies that a
// real registry will not produce on demand (design.md §8).
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';

/** One request the proxy saw. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * What a rule decides for a request: answer it here, forward it and rewrite the response headers, or take the
 * request over entirely (a body that never ends, a connection that stalls).
 */
export type ProxyAction =
  | { respond: { status: number; headers?: Record<string, string>; body?: string | Buffer } }
  | { rewriteHeaders: (headers: IncomingHttpHeaders) => IncomingHttpHeaders }
  | { handle: (req: IncomingMessage, res: ServerResponse) => void };

/** How the proxy reaches an https upstream. */
export interface UpstreamTls {
  /** PEM of the CA that signed the upstream's certificate. */
  ca: string;
}

/** A running proxy. */
export interface TestProxy {
  /** "127.0.0.1:PORT". */
  host: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

/**
 * Forwards a request to `upstream` (http, or https trusting `tls.ca`) and pipes the answer back, its headers
 * rewritten by `rewrite` if given; `headers` replace the request's own.
 */
export function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: URL,
  rewrite?: (headers: IncomingHttpHeaders) => IncomingHttpHeaders,
  options: { tls?: UpstreamTls; path?: string; headers?: IncomingHttpHeaders } = {},
): void {
  const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  const out = send({
    host: upstream.hostname,
    port: upstream.port,
    method: req.method,
    path: options.path ?? req.url,
    headers: { ...(options.headers ?? req.headers), host: upstream.host },
    ...(options.tls === undefined ? {} : { ca: options.tls.ca }),
  }, (upstreamRes) => {
    res.writeHead(upstreamRes.statusCode ?? 502, rewrite === undefined ? upstreamRes.headers : rewrite({ ...upstreamRes.headers }));
    upstreamRes.pipe(res);
  });
  out.on('error', () => { res.destroy(); });
  req.pipe(out);
}

/**
 * Starts a plain-HTTP proxy to `target` ("http://127.0.0.1:PORT", or https with `tls`); `rule` may act on each
 * request.
 */
export async function startProxy(target: string, rule: (req: IncomingMessage) => ProxyAction | undefined = () => undefined, tls?: UpstreamTls): Promise<TestProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    const action = rule(req);
    if (action !== undefined && 'respond' in action) {
      req.resume();
      const body = action.respond.body ?? '';
      res.writeHead(action.respond.status, { 'content-length': String(Buffer.byteLength(body)), ...action.respond.headers });
      res.end(body);
      return;
    }
    if (action !== undefined && 'handle' in action) {
      action.handle(req, res);
      return;
    }
    forwardRequest(req, res, upstream, action?.rewriteHeaders, tls === undefined ? {} : { tls });
  });
  // HTTPS_PROXY clients tunnel with CONNECT; only loopback targets are tunnelled.
  server.on('connect', (req: IncomingMessage, socket, head: Buffer) => {
    requests.push({ method: 'CONNECT', url: req.url ?? '', headers: req.headers });
    const [host, port] = (req.url ?? '').split(':');
    if (host !== '127.0.0.1' || port === undefined) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const tunnel = netConnect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      tunnel.write(head);
      tunnel.pipe(socket);
      socket.pipe(tunnel);
    });
    tunnel.on('error', () => socket.destroy());
    socket.on('error', () => tunnel.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

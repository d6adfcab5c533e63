// A small docker token server (https://distribution.github.io/distribution/spec/auth/token/) running in the
// test process: GET /token with optional Basic auth, and the OAuth2 POST /token flow that docker uses for
// identity tokens (https://distribution.github.io/distribution/spec/auth/oauth/).
import { createPrivateKey, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registryClaims, signJwt } from './jwt.js';
import type { ResourceAccess } from './jwt.js';

const TOKEN_LIFETIME_SECONDS = 300;
/** Form bodies are tiny; anything larger is a broken client. */
const MAX_FORM_BYTES = 64 * 1024;

export interface TokenServerOptions {
  /** TLS certificate and key the server presents (the registry's own, signed by the test CA). */
  certFile: string;
  keyFile: string;
  /** Certificate and RSA key that sign tokens; the certificate must be in the registry's rootcertbundle. */
  signingCertFile: string;
  signingKeyFile: string;
  service: string;
  issuer: string;
  username: string;
  password: string;
  /** Grant `pull` to requests without credentials; when false they get 401. */
  anonymousPull: boolean;
  /** Whether the user gets `push` when asking for it; default true (false: a read-only account). */
  userPush?: boolean;
  /**
   * Seconds a token is really honoured by the registry, while the answer still says 300: a token revoked early,
   * which a client only learns from a 401. Default: the full 300.
   */
  tokenValiditySeconds?: number;
}

export interface TokenServer {
  /** Realm URL for the registry's `auth.token.realm`. */
  readonly realm: string;
  /** Counts every request to /token, granted or not. */
  requests(): number;
  /** Mints a token directly (no HTTP, not counted) — for the harness's own seeding. */
  mintToken(subject: string, access: ResourceAccess[]): string;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

type Caller = { kind: 'anonymous' } | { kind: 'user'; name: string } | { kind: 'refused' };

class HttpError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(`HTTP ${status}`);
  }
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, { errors: [{ code: 'UNAUTHORIZED', message }], error: 'invalid_grant', error_description: message });
}

/** Compares secrets without leaking their length through timing (matters little here, costs nothing). */
function isSameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Parses `type:name:actions` scopes; the name is everything between the first and the last ':'. */
function parseScopes(values: readonly string[]): ResourceAccess[] {
  const scopes: ResourceAccess[] = [];
  // A client may send several scope parameters, or (OAuth2 form) one space-separated list.
  for (const scope of values.flatMap((v) => v.split(' ')).filter((s) => s !== '')) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) throw new HttpError(400, { errors: [{ code: 'INVALID_SCOPE', message: scope }] });
    scopes.push({
      type: scope.slice(0, first),
      name: scope.slice(first + 1, last),
      actions: scope.slice(last + 1).split(',').filter((a) => a !== ''),
    });
  }
  return scopes;
}

/** Anonymous callers keep only `pull`; resources left with no action are dropped. */
function grantFor(caller: Caller, requested: ResourceAccess[], userPush: boolean): ResourceAccess[] {
  if (caller.kind === 'user' && userPush) return requested;
  return requested
    .map((r) => ({ ...r, actions: r.actions.filter((a) => a === 'pull') }))
    .filter((r) => r.actions.length > 0);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, { error: 'invalid_request', error_description: 'body too large' });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Holds the state of one token server: keys, issued refresh tokens and the request count. */
class TokenIssuer {
  private count = 0;
  private readonly refreshTokens = new Map<string, string>();

  constructor(
    private readonly options: TokenServerOptions,
    private readonly key: KeyObject,
    private readonly certificate: X509Certificate,
  ) {}

  requests(): number {
    return this.count;
  }

  mintToken(subject: string, access: ResourceAccess[]): string {
    const claims = registryClaims({
      issuer: this.options.issuer,
      subject,
      audience: this.options.service,
      access,
      // distribution allows 60 s of clock skew past `exp`: a shorter validity is written as an exp that far back.
      lifetimeSeconds: this.options.tokenValiditySeconds === undefined ? TOKEN_LIFETIME_SECONDS : this.options.tokenValiditySeconds - 60,
    });
    return signJwt(claims, this.key, this.certificate);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (url.pathname !== '/token') throw new HttpError(404, { errors: [{ code: 'NOT_FOUND', message: url.pathname }] });
    this.count += 1;
    if (req.method === 'GET') return this.handleGet(req, url, res);
    if (req.method === 'POST') return this.handlePost(await readForm(req), res);
    throw new HttpError(405, { errors: [{ code: 'UNSUPPORTED', message: `method ${req.method ?? ''}` }] });
  }

  private checkService(service: string | null): void {
    // Clients must name the service from the challenge; a wrong one is a client bug worth failing loudly.
    if (service !== null && service !== this.options.service) {
      throw new HttpError(400, { errors: [{ code: 'INVALID_SERVICE', message: `unknown service ${service}` }] });
    }
  }

  private callerFromBasic(header: string | undefined): Caller {
    if (header === undefined) return { kind: 'anonymous' };
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    if (match?.[1] === undefined) return { kind: 'refused' };
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'refused' };
    return this.callerFromPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
  }

  private callerFromPassword(username: string, password: string): Caller {
    const isValid = isSameSecret(username, this.options.username) && isSameSecret(password, this.options.password);
    return isValid ? { kind: 'user', name: username } : { kind: 'refused' };
  }

  private handleGet(req: IncomingMessage, url: URL, res: ServerResponse): void {
    this.checkService(url.searchParams.get('service'));
    const caller = this.callerFromBasic(req.headers.authorization);
    if (caller.kind === 'refused') throw unauthorized('invalid username or password');
    if (caller.kind === 'anonymous' && !this.options.anonymousPull) throw unauthorized('authentication required');
    const access = grantFor(caller, parseScopes(url.searchParams.getAll('scope')), this.options.userPush ?? true);
    const token = this.mintToken(caller.kind === 'user' ? caller.name : '', access);
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      expires_in: TOKEN_LIFETIME_SECONDS,
      issued_at: new Date().toISOString(),
    };
    // `docker login` asks with offline_token=true and stores the refresh token it gets as an identity token.
    if (caller.kind === 'user' && url.searchParams.get('offline_token') === 'true') {
      body['refresh_token'] = this.issueRefreshToken(caller.name);
    }
    sendJson(res, 200, body);
  }

  private issueRefreshToken(name: string): string {
    const refreshToken = randomBytes(24).toString('base64url');
    this.refreshTokens.set(refreshToken, name);
    return refreshToken;
  }

  private handlePost(form: URLSearchParams, res: ServerResponse): void {
    this.checkService(form.get('service'));
    const caller = this.callerFromGrant(form);
    if (caller.kind !== 'user') throw unauthorized('invalid grant');
    const access = grantFor(caller, parseScopes(form.getAll('scope')), this.options.userPush ?? true);
    const body: Record<string, unknown> = {
      access_token: this.mintToken(caller.name, access),
      expires_in: TOKEN_LIFETIME_SECONDS,
      issued_at: new Date().toISOString(),
      scope: form.getAll('scope').join(' '),
    };
    // Per the OAuth spec above, a refresh token is returned only when the client asks for offline access.
    if (form.get('access_type') === 'offline') body['refresh_token'] = this.issueRefreshToken(caller.name);
    sendJson(res, 200, body);
  }

  private callerFromGrant(form: URLSearchParams): Caller {
    switch (form.get('grant_type')) {
      case 'password':
        return this.callerFromPassword(form.get('username') ?? '', form.get('password') ?? '');
      case 'refresh_token': {
        const name = this.refreshTokens.get(form.get('refresh_token') ?? '');
        return name === undefined ? { kind: 'refused' } : { kind: 'user', name };
      }
      default:
        throw new HttpError(400, { error: 'unsupported_grant_type' });
    }
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Port 0 on loopback: the kernel picks a free port, so there is no race to retry here.
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts the token server on a free loopback port, serving HTTPS with the given certificate. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const [cert, key, signingCert, signingKey] = await Promise.all([
    readFile(options.certFile),
    readFile(options.keyFile),
    readFile(options.signingCertFile),
    readFile(options.signingKeyFile),
  ]);
  const issuer = new TokenIssuer(options, createPrivateKey(signingKey), new X509Certificate(signingCert));
  const server = createServer({ cert, key }, (req, res) => {
    issuer.handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) sendJson(res, err.status, err.body);
      else sendJson(res, 500, { errors: [{ code: 'INTERNAL', message: String(err) }] });
    });
  });
  const port = await listen(server);
  // Never keep the test process alive on its own; stop() closes it properly.
  server.unref();
  return {
    realm: `https://127.0.0.1:${port}/token`,
    requests: () => issuer.requests(),
    mintToken: (subject, access) => issuer.mintToken(subject, access),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

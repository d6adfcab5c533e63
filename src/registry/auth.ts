/**
 * Registry authentication (distribution's token spec, docs/spec/auth/token.md, and oauth.md): a 401's challenge
 * says Basic or Bearer; for Bearer a token is fetched from the realm for the scopes needed, anonymously when no
 * credential is known (Docker Hub needs a token even for public pulls), and cached by (realm, service, scopes)
 * until it expires. Once a host's challenge is known, later requests carry auth up front: no extra round trip.
 */
import { isManifestError, ManifestError } from '../errors.js';
import { redact, silentLogger, type Logger } from '../log.js';
import { HEADER_ACCEPT, HEADER_AUTHORIZATION, HEADER_CONTENT_TYPE } from '../media-types.js';
import { isLoopbackHost } from '../ref.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { anonymousCredentials, type Credential, type CredentialStore } from './credentials.js';
import { registryErrorFrom } from './errors.js';
import { isBrokenBody, readBody, type Transport } from './transport.js';

/** Largest token response read. */
export const MAX_TOKEN_RESPONSE = 1024 * 1024;
const DEFAULT_TOKEN_LIFETIME_S = 60;
const CLIENT_ID = 'manifest';

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Where to authenticate for one registry host, learned from its challenge. */
interface HostAuth {
  scheme: 'basic' | 'bearer';
  realm?: string;
  service?: string;
}

/** Options of Authenticator. */
export interface AuthenticatorOptions {
  /** Credential lookups; when omitted, every request is anonymous. */
  credentials?: CredentialStore;
  /** Debug and warning sink; when omitted, nothing is logged. */
  logger?: Logger;
  /** Clock in milliseconds, for token expiry; when omitted, Date.now. */
  now?: () => number;
}

/** What a request needs authorised: its host, the registry name credentials are stored under, the scopes. */
export interface AuthTarget {
  /** Host requests go to ("registry-1.docker.io", "127.0.0.1:5000"). */
  host: string;
  /** Registry name credentials are stored under ("docker.io"). */
  registry: string;
  /** Repository, for stores whose keys name one; when omitted, the registry's credential. */
  repository?: string;
  /** Token scopes ("repository:app:pull"); empty for /v2/ and the catalog's own. */
  scopes: readonly string[];
}

/** Answers 401 challenges and attaches Authorization headers, caching tokens and what each host asks for. */
export class Authenticator {
  private readonly credentials: CredentialStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly hosts = new Map<string, HostAuth>();
  private readonly tokens = new Map<string, Promise<CachedToken>>();

  constructor(private readonly transport: Transport, options: AuthenticatorOptions = {}) {
    this.credentials = options.credentials ?? anonymousCredentials;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /** Returns the Authorization header for a request when the host's scheme is already known; no network if cached. */
  async authorization(target: AuthTarget, signal?: AbortSignal): Promise<string | undefined> {
    const auth = this.hosts.get(target.host);
    if (auth === undefined) return undefined;
    return this.headerFor(auth, target, signal);
  }

  /**
   * Learns the host's challenge from a 401 and returns the header to retry with.
   * Throws UNAUTHORIZED when nothing can be presented (Basic with no credential, unknown scheme).
   */
  async challenge(target: AuthTarget, wwwAuthenticate: readonly string[], signal?: AbortSignal): Promise<string> {
    const challenges = parseChallenges(wwwAuthenticate);
    const auth = this.pick(challenges, target.host);
    this.hosts.set(target.host, auth);
    const value = await this.headerFor(auth, target, signal);
    if (value === undefined) {
      const looked = this.credentials.describe?.() ?? 'nowhere';
      throw new ManifestError('UNAUTHORIZED', `${target.host} requires ${auth.scheme === 'basic' ? 'a user name and password' : 'authentication'} and none were found for ${target.registry} (looked in: ${looked})`, {
        details: { host: target.registry, hadCredentials: false },
      });
    }
    return value;
  }

  /** Names where the credential for a target comes from ("~/.docker/config.json"), or undefined when anonymous. */
  async credentialSource(target: AuthTarget): Promise<string | undefined> {
    return (await this.credentials.get(target.registry, target.repository))?.source;
  }

  /** Forgets a cached token, after the registry refused it. */
  async forget(target: AuthTarget): Promise<void> {
    const auth = this.hosts.get(target.host);
    if (auth?.scheme !== 'bearer') return;
    const cred = await this.credentials.get(target.registry, target.repository);
    this.tokens.delete(this.tokenKey(auth, target, cred));
  }

  private pick(challenges: Challenge[], host: string): HostAuth {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined);
    if (bearer !== undefined) {
      return { scheme: 'bearer', realm: bearer.params.realm ?? '', ...(bearer.params.service === undefined ? {} : { service: bearer.params.service }) };
    }
    if (challenges.some((c) => c.scheme === 'basic')) return { scheme: 'basic' };
    if (challenges.length === 0) {
      throw new ManifestError('INVALID_RESPONSE', `${host} asked for authentication without a WWW-Authenticate challenge this tool can read`, { details: { host } });
    }
    const schemes = challenges.map((c) => c.scheme).join(', ');
    throw new ManifestError('UNAUTHORIZED', `${host} asked for an authentication scheme this tool does not support (${schemes})`, { details: { host } });
  }

  private async headerFor(auth: HostAuth, target: AuthTarget, signal?: AbortSignal): Promise<string | undefined> {
    const cred = await this.credentials.get(target.registry, target.repository);
    if (auth.scheme === 'basic') {
      if (cred?.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${cred.username ?? ''}:${cred.password}`).toString('base64')}`;
    }
    if (cred?.registryToken !== undefined) return `Bearer ${cred.registryToken}`;
    const key = this.tokenKey(auth, target, cred);
    const cached = this.tokens.get(key);
    if (cached !== undefined) {
      try {
        const token = await cached;
        if (token.expiresAt > this.now()) return `Bearer ${token.value}`;
      } catch {
        // a failed fetch is not cached: try again below
      }
    }
    const fetching = this.fetchToken(auth, target, cred, signal);
    this.tokens.set(key, fetching);
    try {
      return `Bearer ${(await fetching).value}`;
    } catch (err) {
      this.tokens.delete(key);
      throw err;
    }
  }

  /** Keys a token by who asked (registry host, credential), where (realm, service) and for what (scopes). */
  private tokenKey(auth: HostAuth, target: AuthTarget, cred: Credential | undefined): string {
    const who = cred === undefined ? '' : `${cred.source}\n${cred.username ?? ''}`;
    return [target.host, who, auth.realm ?? '', auth.service ?? '', [...target.scopes].sort().join(' ')].join('\n');
  }

  /**
   * Checks that a realm may receive credentials: an https realm may; a plain-http realm only when the registry
   * itself is spoken to over plain http and the realm is on its host (or both are on loopback), so credentials
   * never travel in clear text where the registry's own traffic would not.
   */
  private realmAllowsCredentials(realm: URL, host: string): boolean {
    if (realm.protocol === 'https:') return true;
    if (this.transport.schemeFor(host) !== 'http') return false;
    const registryHostname = new URL(`http://${host}`).hostname;
    return realm.hostname === registryHostname || (isLoopbackHost(realm.hostname) && isLoopbackHost(registryHostname));
  }

  private async fetchToken(auth: HostAuth, target: AuthTarget, cred: Credential | undefined, signal?: AbortSignal): Promise<CachedToken> {
    let realm: URL;
    try {
      realm = new URL(auth.realm ?? '');
    } catch {
      throw new ManifestError('INVALID_RESPONSE', `${target.host} sent a bearer challenge with an invalid realm "${redact(auth.realm ?? '').slice(0, 200)}"`, { details: { host: target.host } });
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new ManifestError('INVALID_RESPONSE', `${target.host} sent a bearer realm with unsupported scheme ${realm.protocol}`, { details: { host: target.host } });
    }
    let usable = cred;
    if (usable !== undefined && !this.realmAllowsCredentials(realm, target.host)) {
      this.logger.warn(`not sending credentials for ${target.registry} to the plain-http token realm ${realm.origin}; asking for an anonymous token`);
      usable = undefined;
    }
    const hadCredentials = usable !== undefined;
    const headers: Record<string, string> = { [HEADER_ACCEPT]: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (usable?.identityToken !== undefined) {
      // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md).
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: usable.identityToken, client_id: CLIENT_ID });
      if (auth.service !== undefined) form.set('service', auth.service);
      if (target.scopes.length > 0) form.set('scope', target.scopes.join(' '));
      body = form.toString();
      headers[HEADER_CONTENT_TYPE] = 'application/x-www-form-urlencoded';
    } else {
      if (auth.service !== undefined) realm.searchParams.set('service', auth.service);
      for (const scope of target.scopes) realm.searchParams.append('scope', scope);
      if (usable?.password !== undefined) {
        if (usable.username !== undefined && usable.username !== '') realm.searchParams.set('account', usable.username);
        headers[HEADER_AUTHORIZATION] = `Basic ${Buffer.from(`${usable.username ?? ''}:${usable.password}`).toString('base64')}`;
      }
    }
    const requested = this.now();
    // --insecure for a registry covers the token realm it names, as it does for docker.
    this.transport.trustRealmOf(target.host, realm);
    // A token request changes nothing: safe to send again after a reset or a 503 from the auth server.
    const { response, bytes } = await this.transport.retrying('reading a token', async () => {
      const answer = await this.transport.send({ method, url: realm.href, headers, ...(body === undefined ? {} : { body }), idempotent: true, signal });
      return { response: answer, bytes: answer.status === 200 ? await readBody(answer, MAX_TOKEN_RESPONSE, { what: 'token response' }) : undefined };
    }, isBrokenBody, signal).catch((err: unknown) => {
      // The hint must name the realm, not the registry, when it is the realm's certificate that failed.
      if (isManifestError(err) && err.code === 'TLS' && realm.host !== target.host) {
        throw new ManifestError('TLS', `fetching a token from ${realm.host}, the token realm of ${target.registry}: ${err.message}`, {
          cause: err,
          details: { ...err.details, host: realm.host, realmOf: target.host },
        });
      }
      throw err;
    });
    if (bytes === undefined) {
      const err = await registryErrorFrom(response, method, realm.href, { host: target.registry, hadCredentials });
      const who = hadCredentials ? `the credentials from ${usable?.source ?? 'the configuration'}` : 'an anonymous request';
      if (response.status === 401 || response.status === 403) {
        throw new ManifestError('UNAUTHORIZED', `token server ${realm.host} refused ${who} for ${target.scopes.join(' ') || target.host}: ${err.message}`, {
          cause: err,
          details: { host: target.registry, hadCredentials },
        });
      }
      throw new ManifestError(err.code, `fetching a token from ${realm.host}: ${err.message}`, { cause: err, details: err.details });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new ManifestError('INVALID_RESPONSE', `token server ${realm.host} answered with something that is not JSON`, { details: { host: target.host } });
    }
    const { token, access_token: accessToken, expires_in: expiresIn } = (parsed ?? {}) as Record<string, unknown>;
    const value = typeof token === 'string' && token !== '' ? token : typeof accessToken === 'string' ? accessToken : '';
    if (value === '' || /[\r\n]/.test(value)) {
      throw new ManifestError('INVALID_RESPONSE', `token server ${realm.host} answered without a token`, { details: { host: target.host } });
    }
    const lifetime = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_S;
    this.logger.debug(`token for ${target.scopes.join(' ') || target.host} from ${realm.origin}, valid ${lifetime}s`);
    // Renew a little early so a token does not expire between our check and the registry's.
    return { value, expiresAt: requested + Math.max(1, lifetime - 5) * 1000 };
  }
}

// RS256 JSON Web Tokens in the shape distribution's token auth verifies
// (https://distribution.github.io/distribution/spec/auth/jwt/).
import { randomBytes, sign } from 'node:crypto';
import type { KeyObject, X509Certificate } from 'node:crypto';

/** One grant: `repository` (or `registry`) `name` with the actions allowed on it. */
export interface ResourceAccess {
  type: string;
  name: string;
  actions: string[];
}

export interface RegistryClaimsOptions {
  issuer: string;
  /** Account name; '' for anonymous. */
  subject: string;
  /** The registry's `service`; distribution checks it against the token's audience. */
  audience: string;
  access: ResourceAccess[];
  lifetimeSeconds: number;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Builds the claim set distribution 2.8 checks: iss, aud, exp/nbf (60 s leeway), and `access`. */
export function registryClaims(options: RegistryClaimsOptions): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: options.issuer,
    sub: options.subject,
    aud: options.audience,
    exp: now + options.lifetimeSeconds,
    nbf: now,
    iat: now,
    jti: randomBytes(12).toString('hex'),
    access: options.access,
  };
}

/** Signs claims with an RSA key; `x5c` carries the signing certificate so the registry can chain it to its roots. */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, certificate: X509Certificate): string {
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certificate.raw.toString('base64')] };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  // RS256 = RSASSA-PKCS1-v1_5 with SHA-256, node's default padding for RSA keys.
  const signature = sign('sha256', Buffer.from(signingInput), key);
  return `${signingInput}.${base64url(signature)}`;
}

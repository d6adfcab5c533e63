// Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1 signed by it, and a separate
// self-signed certificate whose key signs registry tokens.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.js';

const OPENSSL_TIMEOUT_MS = 30_000;
/** Short-lived on purpose: these certificates live as long as one test run. */
const VALIDITY_DAYS = '2';

export interface TestCertificates {
  /** PEM of the CA that signed serverCert. */
  caFile: string;
  /** PEM server certificate with SAN IP:127.0.0.1 and DNS:localhost (Go and Node ignore the CN). */
  serverCertFile: string;
  serverKeyFile: string;
  /** PEM self-signed certificate of the token-signing key; it is its own root in the registry's rootcertbundle. */
  signingCertFile: string;
  signingKeyFile: string;
}

/** Runs openssl in dir and throws with its stderr when it fails. */
async function openssl(dir: string, args: string[]): Promise<void> {
  const result = await runCommand('openssl', args, { cwd: dir, timeoutMs: OPENSSL_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`openssl ${args[0] ?? ''} failed (${result.code}): ${result.stderr.trim()}`);
}

/** Makes a self-signed certificate and its unencrypted RSA key. */
async function selfSigned(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  await openssl(dir, [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', VALIDITY_DAYS,
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', subject,
    ...extensions.flatMap((ext) => ['-addext', ext]),
  ]);
}

/** Makes a key `${name}.key` and a certificate request `${name}.csr` for subject. */
async function certificateRequest(dir: string, name: string, subject: string): Promise<void> {
  await openssl(dir, [
    'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject,
  ]);
}

/**
 * Signs `${name}.csr` with the CA into `out`; `openssl x509 -req` drops CSR extensions, so they come from an
 * extfile written here.
 */
async function signWithCa(dir: string, name: string, extensions: string[], out: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), [...extensions, ''].join('\n'));
  await openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-sha256', '-days', VALIDITY_DAYS,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-extfile', `${name}.ext`, '-out', out,
  ]);
}

/** Signs the server certificate for 127.0.0.1 and localhost (Go and Node read the SAN, not the CN). */
async function signServer(dir: string): Promise<void> {
  await signWithCa(dir, 'server', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ], 'server.crt');
}

/** A client certificate for mutual TLS, named as docker's certs.d layout wants (`client.cert`, `client.key`). */
export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

/** Makes a client key and certificate signed by the CA in dir (which createCertificates made). */
export async function createClientCertificate(dir: string): Promise<ClientCertificate> {
  await certificateRequest(dir, 'client', '/CN=manifest test client');
  await signWithCa(dir, 'client', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ], 'client.cert');
  return { certFile: join(dir, 'client.cert'), keyFile: join(dir, 'client.key') };
}

/** Creates the CA, server and token-signing certificates in dir (independent keys are generated concurrently). */
export async function createCertificates(dir: string): Promise<TestCertificates> {
  await Promise.all([
    selfSigned(dir, 'ca', '/CN=manifest test CA', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]),
    selfSigned(dir, 'token-signing', '/CN=test-issuer', ['keyUsage=critical,digitalSignature']),
    certificateRequest(dir, 'server', '/CN=127.0.0.1'),
  ]);
  await signServer(dir);
  return {
    caFile: join(dir, 'ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    signingCertFile: join(dir, 'token-signing.crt'),
    signingKeyFile: join(dir, 'token-signing.key'),
  };
}

/** Hint lines printed under an error, from its code and details: what the user can do next. */
import type { ManifestError } from '../errors.js';
import { isLoopbackHost } from '../ref.js';

/** Returns the hints for an error, one line each (empty when there is nothing useful to say). */
export function hintsFor(err: ManifestError): string[] {
  const host = err.details.host;
  const where = host ?? 'the registry';
  if (err.details.store?.startsWith('s3://') === true && (err.code === 'UNAUTHORIZED' || err.code === 'DENIED')) {
    return [`S3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws; they need read and write access to ${err.details.store}`];
  }
  switch (err.code) {
    case 'UNAUTHORIZED':
      return err.details.hadCredentials === true
        ? [`check the credentials for ${where}: run 'docker login ${where}', or pass --username with --password-stdin`]
        : [`log in first: run 'docker login ${where}', or pass --username with --password-stdin`];
    case 'DENIED':
      return [`the account may lack permission on this repository of ${where}`];
    case 'TLS':
      if (err.details.tls === 'plain-http-server') return [`${where} seems to speak plain HTTP: use --plain-http-host ${where} (or --plain-http)`];
      if (err.details.tls === 'https-server') return [`${where} speaks HTTPS: leave out --plain-http for it`];
      if (host !== undefined && isLoopbackHost(host)) {
        return [`for a local registry without TLS use --plain-http; to trust its certificate use --ca-file FILE or --insecure-host ${host}`];
      }
      return [`trust the registry's CA with --ca-file FILE or /etc/docker/certs.d/${where}/ca.crt, or skip verification with --insecure-host ${where}`];
    case 'UNAVAILABLE':
      if (host !== undefined && /connection refused/.test(err.message)) return [`is a registry listening on ${host}?`];
      if (err.details.tls === 'closed') {
        return [`if ${where} requires a client certificate (mutual TLS), put client.cert and client.key in /etc/docker/certs.d/${where}/`];
      }
      return [];
    case 'TIMEOUT':
      if (err.details.deadline === true) return ['the command ran out of the time --timeout allows; give it longer'];
      return [`${where} did not answer in time; check the network or try again`];
    default:
      return [];
  }
}

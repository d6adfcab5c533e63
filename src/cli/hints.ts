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
      if (err.details.realmOf !== undefined && err.details.tls === 'untrusted-certificate') {
        return [`${where} is the token realm of ${err.details.realmOf}: trust its CA with --ca-file FILE, or skip verification with --insecure-host ${err.details.realmOf} (which covers its realm) or --insecure-host ${where}`];
      }
      if (err.details.tls === 'plain-http-server') return [`${where} seems to speak plain HTTP: use --plain-http-host ${where} (or --plain-http)`];
      if (err.details.tls === 'https-server') return [`${where} speaks HTTPS: leave out --plain-http for it`];
      if (host !== undefined && isLoopbackHost(host)) {
        return [`for a local registry without TLS use --plain-http; to trust its certificate use --ca-file FILE or --insecure-host ${host}`];
      }
      return [`trust the registry's CA with --ca-file FILE or /etc/docker/certs.d/${where}/ca.crt, or skip verification with --insecure-host ${where}`];
    case 'UNAVAILABLE':
      if (err.details.proxy !== undefined) return [`check ${err.details.proxy}, or list ${where} in NO_PROXY to reach it directly`];
      if (host !== undefined && /connection refused/.test(err.message)) return [`is a registry listening on ${host}?`];
      if (err.details.tls === 'closed') {
        return [`if ${where} requires a client certificate (mutual TLS), put client.cert and client.key in /etc/docker/certs.d/${where}/`];
      }
      return [];
    case 'TIMEOUT':
      if (err.details.deadline === true) return ['the command ran out of the time --timeout allows; give it longer'];
      return [`${where} did not answer in time; check the network or try again`];
    case 'INVALID_RESPONSE':
      if (err.details.repairableByForce === true) {
        return ['the tags already named this list, so its entries were not copied again: push with --force to copy them and the list again'];
      }
      return [];
    case 'CONFLICT':
      return ['another push set this tag after this one (the registry keeps the last); run this push again if its list is the one the tag should name'];
    case 'OUTPUT_FAILED':
      return [err.details.pushDone === true
        ? 'once the output can be written, run the same command again: tags already pointing at the list are left alone'
        : 'once the output can be written, run the same command again'];
    default:
      return [];
  }
}

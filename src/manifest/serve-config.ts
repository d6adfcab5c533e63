/**
 * Web server configurations that make a static registry's files answer like a registry for pulls: each manifest
 * with its media type as Content-Type and its Docker-Content-Digest, blobs as application/octet-stream with
 * theirs, `Docker-Distribution-API-Version: registry/2.0` under /v2/, and the registry's JSON errors
 * (MANIFEST_UNKNOWN, BLOB_UNKNOWN, NAME_UNKNOWN) with 404. A file cannot carry its own headers, so the
 * configuration names every manifest present: it is generated from the tree, again after each push.
 */
import { digestOf, type Digest } from '../digest.js';
import { ManifestError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES } from '../media-types.js';
import type { CallOptions } from '../registry/client.js';
import type { StaticBackend } from '../store/static-backend.js';
import type { StaticLocation } from '../store/static-location.js';
import { checkIsStore, compareCodePoints, declaredMediaType, JSON_MEDIA_TYPE } from '../store/static-store.js';
import { MAX_MANIFEST_SIZE } from '../registry/client.js';
import { join, resolve } from 'node:path';

/** Web servers a configuration can be generated for. */
export type ServerKind = 'nginx' | 'apache' | 'caddy';

/** A manifest file as served: its URL path, media type and digest. */
export interface ServedManifest {
  /** "/v2/team/app/manifests/1.0" or "/v2/team/app/manifests/sha256:…". */
  path: string;
  mediaType: string;
  digest: Digest;
}

/** Options of renderServeConfig. */
export interface ServeConfigOptions {
  server: ServerKind;
  /** The store: a directory (its absolute path) or a bucket that nginx proxies to. */
  location: StaticLocation;
  /** Absolute root directory (dir stores). */
  root?: string;
  /** "ADDR:PORT" the server listens on; when omitted, "80" (nginx), "*:80" (apache), ":80" (caddy). */
  listen?: string;
}

const MANIFEST_KEY = /^v2\/(.+)\/manifests\/([^/]+)$/;
const LISTEN = /^(?:(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost|\*):)?[0-9]{1,5}$/;
const SAFE_PATH = /^\/v2\/[a-z0-9._/-]+\/manifests\/[A-Za-z0-9_.:-]+$/;

/** Reads every manifest of a static tree (all repositories) with its media type and digest, sorted by path. */
export async function scanManifests(backend: StaticBackend, options: CallOptions = {}): Promise<ServedManifest[]> {
  const objects = (await backend.list('v2/', options)).filter((o) => MANIFEST_KEY.test(o.key) && !(o.key.split('/').pop() ?? '').startsWith('.'));
  const out: ServedManifest[] = [];
  for (const object of objects.sort((a, b) => compareCodePoints(a.key, b.key))) {
    const read = await backend.read(object.key, MAX_MANIFEST_SIZE, options);
    if (read === undefined) continue; // removed since it was listed
    const mediaType = declaredMediaType(read.bytes) ?? read.contentType;
    if (mediaType === undefined || !MANIFEST_MEDIA_TYPES.includes(mediaType)) {
      throw new ManifestError('INVALID_INPUT', `${object.key} in ${backend.description} declares no manifest media type`);
    }
    out.push({ path: `/${object.key}`, mediaType, digest: digestOf(read.bytes) });
  }
  return out;
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message, detail: {} }] });
}

const API_VERSION = 'Docker-Distribution-API-Version';
const MANIFEST_UNKNOWN = errorBody('MANIFEST_UNKNOWN', 'manifest unknown');
const BLOB_UNKNOWN = errorBody('BLOB_UNKNOWN', 'blob unknown to registry');
const NAME_UNKNOWN = errorBody('NAME_UNKNOWN', 'repository name not known to registry');
const BLOB_PATTERN = '^/v2/.+/blobs/(sha256:[0-9a-f]{64})$';

function checkPaths(manifests: readonly ServedManifest[]): void {
  for (const m of manifests) {
    // Paths go into the configuration verbatim: only registry name, tag and digest characters are allowed.
    if (!SAFE_PATH.test(m.path) || !MANIFEST_MEDIA_TYPES.includes(m.mediaType)) throw new ManifestError('INVALID_INPUT', `cannot serve ${JSON.stringify(m.path)}`);
  }
}

/** Returns the configuration text for `options.server`. */
export function renderServeConfig(manifests: readonly ServedManifest[], options: ServeConfigOptions): string {
  if (options.listen !== undefined && !LISTEN.test(options.listen)) {
    throw new ManifestError('USAGE', `--listen "${options.listen.slice(0, 60)}": expected PORT or ADDR:PORT, such as 127.0.0.1:8080`);
  }
  if (options.location.kind === 'dir' && options.root === undefined) throw new ManifestError('INTERNAL', 'a dir store needs its root');
  if (options.location.kind === 's3' && options.server !== 'nginx') {
    throw new ManifestError('UNSUPPORTED', `an s3:// store is served through nginx's proxy (--nginx); serve the bucket as a website for ${options.server}`);
  }
  checkPaths(manifests);
  if (/["\\\n$;{}]/.test(options.root ?? '')) throw new ManifestError('USAGE', `the root "${(options.root ?? '').slice(0, 80)}" has characters a server configuration cannot quote`);
  switch (options.server) {
    case 'nginx': return nginxConfig(manifests, options);
    case 'apache': return apacheConfig(manifests, options);
    case 'caddy': return caddyConfig(manifests, options);
  }
}

const HEADER_LINE = (server: string): string =>
  `# ${server} configuration of a static registry, generated by \`manifest static serve-config\`.\n# Regenerate it after each push (a new tag or manifest needs its own headers), then reload the server.\n`;

/** nginx: how each location fetches its file (the tree on disk, or the bucket over HTTP). */
function nginxFetch(options: ServeConfigOptions): string[] {
  const location = options.location;
  if (location.kind === 'dir') return [];
  const endpoint = new URL(location.endpoint ?? `https://s3.${location.region ?? 'us-east-1'}.amazonaws.com`);
  const base = location.prefix === '' ? '' : `/${location.prefix}`;
  const host = location.forcePathStyle ? endpoint.host : `${location.bucket}.${endpoint.host}`;
  const path = location.forcePathStyle ? `/${location.bucket}${base}` : base;
  return [
    `rewrite ^(.*)$ ${path}$1 break;`,
    `proxy_pass ${endpoint.protocol}//${host};`,
    `proxy_set_header Host ${host};`,
    // S3 answers a missing key with 403 or 404 and XML; the registry's JSON error replaces both.
    'proxy_intercept_errors on;',
    'proxy_hide_header x-amz-request-id;',
    'proxy_hide_header x-amz-id-2;',
  ];
}

function nginxConfig(manifests: readonly ServedManifest[], options: ServeConfigOptions): string {
  const fetch = nginxFetch(options);
  const s3 = options.location.kind === 's3';
  const notFound = s3 ? ['error_page 403 404 =404'] : ['error_page 404 =404'];
  const lines: string[] = [
    'server {',
    `    listen ${options.listen ?? '80'};`,
    ...(options.root === undefined ? [] : [`    root "${options.root}";`]),
    '    # Dot files (temporary files, written configurations) stay private.',
    '    location ~ /\\. { return 404; }',
    '    # Outside /v2/: downloads (static push), where a folder answers with its index.json.',
    '    location / {',
    '        types { application/json json; }',
    '        default_type application/octet-stream;',
    ...(fetch.length === 0 ? ['        try_files $uri $uri/index.json =404;'] : fetch.map((l) => `        ${l}`)),
    '    }',
    '',
    '    location = /v2/ {',
    `        add_header ${API_VERSION} registry/2.0 always;`,
    '        default_type application/json;',
    "        return 200 '{}';",
    '    }',
    '',
  ];
  for (const m of manifests) {
    lines.push(
      `    location = ${m.path} {`,
      '        types { }',
      `        default_type ${m.mediaType};`,
      `        add_header ${API_VERSION} registry/2.0 always;`,
      `        add_header Docker-Content-Digest ${m.digest} always;`,
      ...fetch.map((l) => `        ${l}`),
      `        ${notFound[0]} @manifest_unknown;`,
      '    }',
    );
  }
  lines.push(
    '',
    `    location ~ "${BLOB_PATTERN}" {`,
    '        types { }',
    '        default_type application/octet-stream;',
    `        add_header ${API_VERSION} registry/2.0 always;`,
    '        add_header Docker-Content-Digest $1 always;',
    ...fetch.map((l) => `        ${l}`),
    `        ${notFound[0]} @blob_unknown;`,
    '    }',
    '    location ~ ^/v2/.+/tags/list$ {',
    '        types { }',
    '        default_type application/json;',
    `        add_header ${API_VERSION} registry/2.0 always;`,
    ...fetch.map((l) => `        ${l}`),
    `        ${notFound[0]} @name_unknown;`,
    '    }',
    '    # Manifests not named above: not there when this configuration was generated.',
    '    location ~ ^/v2/.+/manifests/ { return 404; error_page 404 =404 @manifest_unknown; }',
    '    location /v2/ { return 404; error_page 404 =404 @name_unknown; }',
    '',
  );
  for (const [name, body] of [['manifest_unknown', MANIFEST_UNKNOWN], ['blob_unknown', BLOB_UNKNOWN], ['name_unknown', NAME_UNKNOWN]] as const) {
    lines.push(
      `    location @${name} {`,
      '        default_type application/json;',
      `        add_header ${API_VERSION} registry/2.0 always;`,
      `        return 404 '${body}';`,
      '    }',
    );
  }
  lines.push('}', '');
  return HEADER_LINE('nginx') + '# Include it inside http { }.\n' + lines.join('\n');
}

function apacheConfig(manifests: readonly ServedManifest[], options: ServeConfigOptions): string {
  const listen = options.listen ?? '*:80';
  const root = options.root ?? '';
  const lines: string[] = [
    '# Needs mod_headers (a2enmod headers).',
    `Listen ${listen}`,
    `<VirtualHost ${listen.includes(':') ? listen : `*:${listen}`}>`,
    `    DocumentRoot "${root}"`,
    `    <Directory "${root}">`,
    '        Require all granted',
    '        Options -Indexes',
    '        AllowOverride None',
    '    </Directory>',
    '    # Dot files (temporary files, written configurations) stay private.',
    '    <LocationMatch "/\\.">',
    '        Require all denied',
    '    </LocationMatch>',
    '    # Outside /v2/: downloads (static push), where a folder answers with its index.json.',
    '    DirectoryIndex index.json',
    '    <LocationMatch "^/v2/">',
    `        Header always set ${API_VERSION} "registry/2.0"`,
    '        Header always set Content-Type application/json "expr=%{REQUEST_STATUS} == 404"',
    `        ErrorDocument 404 '${NAME_UNKNOWN}'`,
    '    </LocationMatch>',
    '    <LocationMatch "^/v2/(index\\.html)?$">',
    '        DirectoryIndex index.html',
    '        ForceType application/json',
    '    </LocationMatch>',
    '    <LocationMatch "^/v2/.+/manifests/">',
    `        ErrorDocument 404 '${MANIFEST_UNKNOWN}'`,
    '    </LocationMatch>',
  ];
  for (const m of manifests) {
    lines.push(
      `    <Location "${m.path}">`,
      `        ForceType ${m.mediaType}`,
      `        Header always set Docker-Content-Digest "${m.digest}"`,
      '    </Location>',
    );
  }
  lines.push(
    `    <LocationMatch "${BLOB_PATTERN.replace('(sha256', '(?<digest>sha256')}">`,
    '        ForceType application/octet-stream',
    '        Header always set Docker-Content-Digest "%{MATCH_DIGEST}e"',
    `        ErrorDocument 404 '${BLOB_UNKNOWN}'`,
    '    </LocationMatch>',
    '    <LocationMatch "^/v2/.+/tags/list$">',
    '        ForceType application/json',
    '    </LocationMatch>',
    '</VirtualHost>',
    '',
  );
  return HEADER_LINE('Apache httpd') + lines.join('\n');
}

function caddyConfig(manifests: readonly ServedManifest[], options: ServeConfigOptions): string {
  const listen = options.listen ?? ':80';
  const lines: string[] = [
    `http://${listen.includes(':') ? listen : `:${listen}`} {`,
    `    root * "${options.root ?? ''}"`,
    `    header /v2/* ${API_VERSION} registry/2.0`,
    '    @version path /v2/',
    '    header @version Content-Type application/json',
    '    rewrite @version /v2/index.html',
  ];
  manifests.forEach((m, i) => {
    lines.push(
      `    @m${i} path ${m.path}`,
      `    header @m${i} Content-Type ${m.mediaType}`,
      `    header @m${i} Docker-Content-Digest ${m.digest}`,
    );
  });
  lines.push(
    `    @blob path_regexp blob ${BLOB_PATTERN}`,
    '    header @blob Content-Type application/octet-stream',
    '    header @blob Docker-Content-Digest {re.blob.1}',
    '    @tags path_regexp ^/v2/.+/tags/list$',
    '    header @tags Content-Type application/json',
    '    # Dot files (temporary files, written configurations) stay private.',
    '    @hidden path */.*',
    '    respond @hidden 404',
    '    # Outside /v2/: downloads (static push), where a folder answers with its index.json.',
    '    @document {',
    '        not path /v2/*',
    '        file {path}/index.json',
    '    }',
    '    rewrite @document {path}/index.json',
    '    @download not path /v2/*',
    '    header @download ?Content-Type application/octet-stream',
    '    file_server',
    '    handle_errors {',
    '        header Content-Type application/json',
    `        @manifest path_regexp ^/v2/.+/manifests/`,
    `        respond @manifest \`${MANIFEST_UNKNOWN}\` 404`,
    `        @blobs path_regexp ^/v2/.+/blobs/`,
    `        respond @blobs \`${BLOB_UNKNOWN}\` 404`,
    `        respond \`${NAME_UNKNOWN}\` 404`,
    '    }',
    '}',
    '',
  );
  return HEADER_LINE('Caddy') + lines.join('\n');
}

/** Options of serveConfigText and writeServeConfig. */
export interface ServeConfigRequest extends CallOptions {
  server: ServerKind;
  location: StaticLocation;
  listen?: string;
}

/** Where `--write` keeps configurations (and what they were asked with) in the store: outside v2/, never served. */
const WRITTEN_DIR = '.manifest/';
const WRITTEN_FILES: Readonly<Record<ServerKind, string>> = { nginx: 'nginx.conf', apache: 'apache.conf', caddy: 'Caddyfile' };
const WRITTEN_RECORD = `${WRITTEN_DIR}serve-config.json`;

/** Scans the store and returns the configuration text. */
export async function serveConfigText(request: ServeConfigRequest): Promise<string> {
  const { openStaticBackend } = await import('../store/open-static-store.js');
  const backend = await openStaticBackend(request.location);
  return renderFor(backend, request);
}

async function renderFor(backend: StaticBackend, request: ServeConfigRequest): Promise<string> {
  const call = request.signal === undefined ? {} : { signal: request.signal };
  const manifests = await scanManifests(backend, call);
  if (manifests.length === 0) await checkIsStore(backend, call);
  return renderServeConfig(manifests, {
    server: request.server,
    location: request.location,
    ...(request.location.kind === 'dir' ? { root: resolve(request.location.root) } : {}),
    ...(request.listen === undefined ? {} : { listen: request.listen }),
  });
}

interface WrittenRecord {
  configs: { server: ServerKind; listen?: string }[];
}

async function readRecord(backend: StaticBackend, call: CallOptions): Promise<WrittenRecord> {
  const read = await backend.read(WRITTEN_RECORD, 64 * 1024, call);
  if (read === undefined) return { configs: [] };
  try {
    const value = JSON.parse(new TextDecoder().decode(read.bytes)) as WrittenRecord;
    return { configs: Array.isArray(value.configs) ? value.configs.filter((c) => Object.hasOwn(WRITTEN_FILES, c.server)) : [] };
  } catch {
    return { configs: [] };
  }
}

/** Writes the configuration into the store (a dir store only) and records it for later pushes; returns its path. */
export async function writeServeConfig(request: ServeConfigRequest): Promise<string> {
  if (request.location.kind !== 'dir') throw new ManifestError('USAGE', '--write keeps the configuration beside a directory tree; for s3:// print it');
  const { openStaticBackend } = await import('../store/open-static-store.js');
  const backend = await openStaticBackend(request.location);
  const call = request.signal === undefined ? {} : { signal: request.signal };
  const text = new TextEncoder().encode(await renderFor(backend, request));
  const key = `${WRITTEN_DIR}${WRITTEN_FILES[request.server]}`;
  await backend.write(key, text, { contentType: 'text/plain', size: text.length }, call);
  const record = await readRecord(backend, call);
  record.configs = [...record.configs.filter((c) => c.server !== request.server), { server: request.server, ...(request.listen === undefined ? {} : { listen: request.listen }) }];
  const bytes = new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`);
  await backend.write(WRITTEN_RECORD, bytes, { contentType: JSON_MEDIA_TYPE, size: bytes.length }, call);
  return join(resolve(request.location.root), ...key.split('/'));
}

/**
 * Rewrites the configurations `--write` left in a dir store, after a push changed its manifests; returns the
 * paths rewritten (the server still has to reload them).
 */
export async function regenerateWrittenConfigs(location: StaticLocation, options: CallOptions = {}): Promise<string[]> {
  if (location.kind !== 'dir') return [];
  const { openStaticBackend } = await import('../store/open-static-store.js');
  const backend = await openStaticBackend(location);
  const written: string[] = [];
  for (const config of (await readRecord(backend, options)).configs) {
    written.push(await writeServeConfig({ server: config.server, location, ...(config.listen === undefined ? {} : { listen: config.listen }), ...options }));
  }
  return written;
}

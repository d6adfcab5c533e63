/** Media types, header names and annotation keys, named once (design.md §7 rule 6). */

/** Docker image manifest, schema 2. */
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker manifest list. */
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker schema 1 manifest (unsigned); refused. */
export const MEDIA_TYPE_DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
/** Docker schema 1 manifest (signed); refused. */
export const MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
/** Docker image config. */
export const MEDIA_TYPE_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Docker gzip layer. */
export const MEDIA_TYPE_DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Docker foreign (non-distributable) layer, as Windows base layers use. */
export const MEDIA_TYPE_DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

/** OCI image manifest. */
export const MEDIA_TYPE_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** OCI image index. */
export const MEDIA_TYPE_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** OCI image config. */
export const MEDIA_TYPE_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** OCI gzip layer. */
export const MEDIA_TYPE_OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Prefix of the OCI media types of non-distributable layers (deprecated in image-spec 1.1, still in use). */
export const MEDIA_TYPE_OCI_NONDISTRIBUTABLE_PREFIX = 'application/vnd.oci.image.layer.nondistributable.';
/** Generic media type of blob uploads. */
export const MEDIA_TYPE_OCTET_STREAM = 'application/octet-stream';

/** Manifest types this package understands, in the order sent in `Accept` (lists first: design.md §8). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST,
];

/** Tells whether a media type is a list of manifests (Docker list or OCI index). */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_OCI_INDEX || mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

/** Tells whether a media type is a single image manifest (Docker v2 schema 2 or OCI). */
export function isImageMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_OCI_MANIFEST || mediaType === MEDIA_TYPE_DOCKER_MANIFEST;
}

/** Tells whether a media type is Docker's schema 1, which this package refuses. */
export function isSchema1MediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_DOCKER_SCHEMA1 || mediaType === MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED;
}

/**
 * Tells whether a layer is foreign (Windows base layers): registries do not serve it and it is never copied,
 * as docker does.
 */
export function isForeignLayerMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_DOCKER_FOREIGN_LAYER || mediaType.startsWith(MEDIA_TYPE_OCI_NONDISTRIBUTABLE_PREFIX);
}

/** Response header carrying the registry's claim of a manifest or blob digest. */
export const HEADER_CONTENT_DIGEST = 'docker-content-digest';
/** HTTP header names, lower case as undici reports them. */
export const HEADER_ACCEPT = 'accept';
export const HEADER_AUTHORIZATION = 'authorization';
export const HEADER_CONTENT_LENGTH = 'content-length';
export const HEADER_CONTENT_TYPE = 'content-type';
export const HEADER_LOCATION = 'location';
export const HEADER_RETRY_AFTER = 'retry-after';
export const HEADER_USER_AGENT = 'user-agent';
export const HEADER_WWW_AUTHENTICATE = 'www-authenticate';

/** Annotation buildx puts on attestation entries of an index. */
export const ANNOTATION_REFERENCE_TYPE = 'vnd.docker.reference.type';
/** Annotation naming the image an attestation entry describes. */
export const ANNOTATION_REFERENCE_DIGEST = 'vnd.docker.reference.digest';
/** Value of ANNOTATION_REFERENCE_TYPE on attestation entries. */
export const REFERENCE_TYPE_ATTESTATION = 'attestation-manifest';

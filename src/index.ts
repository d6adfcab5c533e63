/**
 * Public API of `manifest`. Everything the command line does is a call to one of these; each export is an API we
 * keep, so the list is explicit (design.md §1).
 */
export { Reference, parseReference, DOCKER_HUB_REGISTRY, DOCKER_HUB_API_HOST, type ParseReferenceOptions } from './ref.js';
export { isDigest, parseDigest, sha256Digest, type Digest } from './digest.js';
export { formatPlatform, parsePlatform, platformMatches, normalizePlatform, validatePlatform, type Platform } from './platform.js';
export {
  MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_DOCKER_CONFIG, MEDIA_TYPE_OCI_CONFIG, MANIFEST_MEDIA_TYPES,
} from './media-types.js';
export { ManifestError, isManifestError, exitCodeOf, type ErrorCode, type ErrorDetails } from './errors.js';
export { createLogger, redact, silentLogger, type Logger, type CreateLoggerOptions } from './log.js';
export type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './types/oci.js';
export { Transport, type TransportOptions } from './registry/transport.js';
export {
  loadDefaultCredentials, anonymousCredentials, type Credential, type CredentialStore, type DefaultCredentialsOptions,
} from './registry/credentials.js';
export {
  RegistryClient, type RegistryClientOptions, type FetchedManifest, type ManifestHead, type CallOptions, type GetBlobOptions,
  type ManifestUpload, type BlobRef, type BlobCopyOutcome,
  type PingResult, type ListNamesOptions, type BlobStream, MAX_LISTED_NAMES,
} from './registry/client.js';
export type { ImageReader, ImageTarget } from './store/image-store.js';
export { RegistryRepository } from './store/registry-repository.js';
export { verifyingStream, type ExpectedBlob } from './verifying-stream.js';
export { RegistryError, type RegistryDiagnostic, type RegistryErrorInit } from './registry/errors.js';
export { parseChallenges, type Challenge } from './registry/challenge.js';
export { parseManifest, type Manifest, type ImageConfigDetails } from './manifest/parse.js';
export {
  inspect, type InspectOptions, type InspectResult, type InspectedEntry, type InspectedImage, type InspectedBlob,
} from './manifest/inspect.js';
export {
  pushManifestList, type PushOptions, type PushResult, type PushedEntry, type BlobCounts,
} from './manifest/push.js';
export { resolveDigest, type ResolveDigestOptions, type ResolvedDigest } from './manifest/resolve-digest.js';
export { saveBlob, type SaveBlobOptions, type SavedBlob } from './manifest/save-blob.js';
export { addToList, removeFromList, appendToList, type EditListOptions } from './manifest/edit-list.js';
export { buildManifestList, type BuildManifestListOptions, type BuiltManifestList, type ListType } from './manifest/build-list.js';
export type { SkippedSource } from './manifest/resolve.js';
export type { PushSpec, PushSpecEntry, SpecSource } from './spec/types.js';
export { loadSpecFiles, parseSpecText, MAX_SPEC_BYTES, type LoadSpecFilesOptions, type ParseSpecTextOptions } from './spec/load.js';
export { specFromArgs, type SpecFromArgsOptions } from './spec/from-args.js';
export { SpecError, isSpecError, formatSpecIssue, type SpecIssue } from './spec/spec-error.js';
export {
  checkWorkloads, type CheckOptions, type CheckResult, type CheckedWorkload, type CheckedContainer, type CheckedImage,
} from './manifest/check.js';
export { loadWorkloads, readWorkloads, type Workload, type WorkloadContainer, type WorkloadInput, type ContainerType } from './kube/workloads.js';
export { readNodes, type KubeNode } from './kube/nodes.js';
export { covers } from './kube/coverage.js';
export { specFromArchives, platformOfArchiveName, type SpecFromArchivesOptions } from './spec/from-archives.js';
export { ArchiveSource, parseArchiveSource, isArchiveSource, type ArchiveKind } from './archive/source.js';
export { ArchiveSession, type ArchiveSessionOptions } from './archive/session.js';
export { OciLayoutTarget, OciLayoutReader, ANNOTATION_REF_NAME } from './archive/oci-layout.js';
export { packLayout } from './archive/pack-layout.js';
export { exportImage, type ExportOptions, type ExportResult } from './manifest/export.js';
export {
  parseStaticTarget, parseStaticReference, isStaticReference, formatStaticLocation, StaticReference,
  type StaticLocation, type DirLocation, type S3Location, type ParsedStaticTarget,
} from './store/static-location.js';
export { openStaticStore, openStaticBackend } from './store/open-static-store.js';
export { StaticStore } from './store/static-store.js';
export type { StaticBackend, StoredObject, ReadObject } from './store/static-backend.js';
export {
  serveConfigText, writeServeConfig, renderServeConfig, scanManifests,
  type ServerKind, type ServedManifest, type ServeConfigOptions, type ServeConfigRequest,
} from './manifest/serve-config.js';
export {
  listStaticRepositories, removeStaticTag, collectStaticGarbage, type StaticRepository, type StaticGcOptions, type StaticGcResult,
} from './manifest/static-housekeeping.js';
export {
  pushStaticBinaries, scanBinaryDir, flavorsDocument, DEFAULT_BINARY_PREFIX, type BinaryFlavor, type StaticBinariesOptions, type StaticBinariesResult,
} from './manifest/static-binaries.js';

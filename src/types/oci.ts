/**
 * Wire-exact interfaces of the OCI image spec v1.1 and Docker's image manifest v2 schema 2, field for field.
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/image-index.md
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/config.md
 * https://github.com/distribution/distribution/blob/v2.8.2/docs/spec/manifest-v2-2.md
 */
import type { Platform } from '../platform.js';

/** A content descriptor (descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
}

/** An image manifest: OCI (manifest.md) or Docker v2 schema 2, which share this shape. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index (image-index.md) or Docker manifest list, which share this shape. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The fields of an image config (config.md) this package reads. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  created?: string;
}

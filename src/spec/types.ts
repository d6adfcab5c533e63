/**
 * What a push is asked to do, once a YAML spec (manifest-tool's keys) or the from-args flags have been validated:
 * references and platforms parsed, tags checked. The manifest/ layer takes these types; it never loads YAML.
 */
import type { ArchiveSource } from '../archive/source.js';
import type { Platform } from '../platform.js';
import type { Reference } from '../ref.js';

/** Where a spec came from, for messages. */
export interface SpecSource {
  /** File as the user named it ("prometheus.yaml"), or a label such as "--template" for from-args. */
  file: string;
  /** Index of the YAML document in the file (0 for the first or only one). */
  document: number;
  /** 1-based line of the document's `image` key, when known. */
  line?: number;
}

/** One per-architecture source of a list. */
export interface PushSpecEntry {
  /**
   * The source image (or list, which is flattened unless asked not to be): a registry reference, or a local
   * archive or layout (`docker-archive:FILE`, `oci:DIR[:tag]`, `oci-archive:FILE[:tag]`).
   */
  image: Reference | ArchiveSource;
  /** Platform the spec declares; when omitted, it is read from the image's config. */
  platform?: Platform;
  /**
   * Fields of a platform the spec gives without both os and architecture (`platform: {}`, `{variant: v7}`): the
   * missing ones are read from the image's config, these are kept. Only set when `platform` is not.
   */
  platformFields?: Partial<Platform>;
  /** Whether `platform` comes from an archive's file name (`linux.arm64.tar`), for messages; when omitted, false. */
  platformFromName?: boolean;
  /** Annotations of this entry's descriptor in the list (an extension of manifest-tool's format). */
  annotations?: Record<string, string>;
  /** 1-based line of this entry in its spec file, when it came from one. */
  line?: number;
}

/** A validated request to assemble one list and push it under one or more tags. */
export interface PushSpec {
  /** Where the list goes: registry, repository and first tag (manifest-tool's `image`). */
  target: Reference;
  /** Further tags of the same repository, in order, without duplicates or the target's own tag. */
  tags: string[];
  /** Annotations of the list itself (forces an OCI index). */
  annotations?: Record<string, string>;
  /** Sources, in the order the list's entries will have. */
  manifests: PushSpecEntry[];
  /** Where this spec came from, when it came from a file or flags. */
  source?: SpecSource;
}

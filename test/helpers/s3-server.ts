// A real S3-compatible server on a free loopback port: s3rver (npm), in this process, with its objects in a temp
// dir and one bucket. It checks SigV4 signatures against its fixed credentials (S3RVER / S3RVER) and serves
// anonymous GETs, as a public-read bucket does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { trackDir, untrackDir } from './exit-cleanup.js';

export interface TestS3Server {
  /** "http://127.0.0.1:PORT". */
  readonly endpoint: string;
  readonly bucket: string;
  /** The variables an AWS SDK client needs for it: credentials and region. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts s3rver with `bucket`. */
export async function startS3Server(bucket = 'registry'): Promise<TestS3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'manifest-s3-'));
  trackDir(dir);
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
      untrackDir(dir);
    },
  };
}

// The eight platforms of the "done when": every Linux architecture a cluster is likely to mix, arm in two
// variants, and a Windows image whose os.version tells it apart. Shared by the push tests and the push benchmark.
import type { SeedImageOptions } from './registry.js';

/** linux amd64, arm64, arm/v7, arm/v6, 386, ppc64le, s390x, and windows/amd64 with an os.version. */
export const EIGHT_PLATFORMS: readonly SeedImageOptions['platform'][] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
  { os: 'linux', architecture: 'arm', variant: 'v6' },
  { os: 'linux', architecture: '386' },
  { os: 'linux', architecture: 'ppc64le' },
  { os: 'linux', architecture: 's390x' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1879' },
];

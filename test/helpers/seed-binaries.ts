// Seed 001's static binaries (`alba static push -t albatros:0.9 df/ …`): the architectures of its df/ directory
// and the version document it shows for them, byte for byte.
export const SEED_ARCHITECTURES = ['386', 'amd64', 'arm', 'arm64'] as const;
export const SEED_FLAVORS = '{"flavors":[{"resources":[{"path":"albatros"}],"platform":{"architecture":"386","os":"linux"}},{"resources":[{"path":"albatros"}],"platform":{"architecture":"amd64","os":"linux"}},{"resources":[{"path":"albatros"}],"platform":{"architecture":"arm","os":"linux"}},{"resources":[{"path":"albatros"}],"platform":{"architecture":"arm64","os":"linux"}}]}';

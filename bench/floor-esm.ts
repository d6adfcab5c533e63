// A floor of the cold-start scenario: an ES module that does nothing. What Node's ESM loader adds to `node -e 0`
// before any of the CLI's code runs (bin/manifest.js and the bundle are ES modules).
export {};

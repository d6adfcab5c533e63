// The CLI as tsc compiled it, without the bundle bin/manifest.js runs: the bench times both, to show what the
// bundle gives.
import { main } from '../src/cli/main.js';

await main();

#!/usr/bin/env node
// The installed command: the compiled CLI (run `npm run build` in a checkout first; `npm install` does it).
import { main } from '../dist/src/cli/main.js';

await main();

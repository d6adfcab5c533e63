// The floor of "last output to exit" at a given memory size: a Node process that has done what every networked
// command of ours does (undici loaded, one HTTP exchange, here with a server of its own on loopback), then holds
// as much resident memory as one of our commands held at its exit (argv[2], in KiB), prints a line and exits as
// the CLI does (process.exit once stdout has taken the line). Ending a process costs time that grows with the
// memory it holds: the kernel unmaps and frees every resident page after the last byte was written. The memory is
// Buffers, which are the cheapest to hold and free, so no Node program on these dependencies holding that much
// could end sooner.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';

// As the CLI does before undici loads (src/cli/registry-options.ts): else exit waits for V8's optimising
// compilation of llhttp's WebAssembly.
setFlagsFromString('--liftoff-only');
const { request } = await import('undici');

const CHUNK_BYTES = 1024 * 1024;
const targetKiB = Number(process.argv[2]);
if (!Number.isFinite(targetKiB) || targetKiB <= 0) {
  process.stderr.write('floor-exit: give the resident memory to hold, in KiB\n');
  process.exit(2);
}
const server = createServer((_req, res) => { res.end('{}'); });
await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const { port } = server.address() as AddressInfo;
const answer = await request(`http://127.0.0.1:${port}/v2/`);
await answer.body.text();
const held: Buffer[] = [];
// Bounded: at most 4 GiB, whatever the argument.
while (process.memoryUsage().rss < targetKiB * 1024 && held.length < 4096) held.push(Buffer.alloc(CHUNK_BYTES, held.length & 0xff));
process.stdout.write(`held ${held.length} MiB\n`, () => process.exit(0));

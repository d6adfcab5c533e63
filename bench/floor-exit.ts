// The floor of "last output to exit" for what a command holds: a Node process that has done what every networked
// command of ours does (the parts of undici the transport loads, with V8's --liftoff-only as the CLI sets it,
// HTTP exchanges with the registry the argument names, on as many connections as ours had open), then holds as
// much resident memory as one of our commands held at its exit (in KiB), as much of it in V8's heap as ours had,
// prints a line and exits as the CLI does (process.exit once stdout has taken the line). Ending a process costs
// time that grows with what it holds: after the last byte was written, the kernel closes every socket and unmaps
// and frees every resident page, and a JS heap takes longer than as much memory in Buffers (measured at 67 MB:
// 12.3 against 10.6 ms). The heap is grown with small objects towards ours, the rest added as Buffers. Its line says
// how much it held: when that is more than the target (Node and undici alone hold more than ours did), it is no
// floor, and the bench says so.
//   node dist/bench/floor-exit.js REGISTRY_URL KIB [CONNECTIONS [HEAP_KIB]]
import { loadUndici } from './floor-undici.js';

const CHUNK_BYTES = 1024 * 1024;
const [url = '', target = '', count = '1', heap = '0'] = process.argv.slice(2);
const targetKiB = Number(target);
const connections = Number(count);
const heapKiB = Number(heap);
if (!url.startsWith('http') || !Number.isFinite(targetKiB) || targetKiB <= 0 || !Number.isInteger(connections) || connections < 1 || connections > 256 || !Number.isFinite(heapKiB) || heapKiB > targetKiB) {
  process.stderr.write('floor-exit: give a registry URL, the resident memory to hold in KiB, 1 to 256 connections and the JS heap in KiB\n');
  process.exit(2);
}
// Requests sent together: the agent opens a connection for each, and keeps them open to the exit as ours does.
const send = await loadUndici();
await Promise.all(Array.from({ length: connections }, async () => {
  const answer = await send({ origin: url, path: '/v2/', method: 'GET' });
  await answer.body.text();
}));
const objects: { index: number; text: string; list: number[] }[] = [];
// Bounded: the heap stops where it reaches ours or the process reaches the resident target, and at 50 million objects.
while (process.memoryUsage().heapTotal < heapKiB * 1024 && process.memoryUsage().rss < targetKiB * 1024 && objects.length < 50_000_000) {
  for (let i = 0; i < 1000; i++) objects.push({ index: i, text: `object ${i}`, list: [i] });
}
const held: Buffer[] = [];
// Bounded: at most 4 GiB, whatever the argument.
while (process.memoryUsage().rss < targetKiB * 1024 && held.length < 4096) held.push(Buffer.alloc(CHUNK_BYTES, held.length & 0xff));
const { rss, heapTotal } = process.memoryUsage();
process.stdout.write(`held ${held.length} MiB more, resident ${Math.round(rss / 1024)} KiB, heap ${Math.round(heapTotal / 1024)} KiB\n`, () => process.exit(0));

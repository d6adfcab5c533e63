// Calls one exported function in a worker thread, with a deadline. A test's own timeout cannot stop synchronous
// code (a regex backtracking for minutes blocks the runner's timers as well); terminating a worker can.
import { Worker } from 'node:worker_threads';

// An eval'd worker is CommonJS: it loads the ES module with import(). When asked, the function gets a `report`
// callback as its last argument, for progress the caller sees as it happens (which input is being tried).
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const report = (progress) => parentPort.postMessage({ progress });
import(workerData.url)
  .then((module) => module[workerData.name](...workerData.args, ...(workerData.report ? [report] : [])))
  .then((value) => ({ value }), (err) => ({ error: err instanceof Error ? \`\${err.name}: \${err.message}\` : String(err) }))
  .then((message) => parentPort.postMessage(message));
`;

/** Options of callInWorker. */
export interface CallInWorkerOptions {
  /** Milliseconds the call may run without reporting progress before it is stopped. */
  timeoutMs: number;
  /** Receives each progress report, and makes the function get `report` as its last argument; when omitted, it does not. */
  onProgress?: (progress: unknown) => void;
}

/**
 * Calls `name(...args)` of the module at `url` in a worker thread and returns its (structured-cloned) result.
 * Rejects when the call throws, or when `timeoutMs` pass without a progress report or a result: the worker is then
 * terminated and the error names the last progress reported.
 */
export function callInWorker(url: URL, name: string, args: readonly unknown[], options: CallInWorkerOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SCRIPT, { eval: true, workerData: { url: url.href, name, args, report: options.onProgress !== undefined } });
    let last: unknown;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      settle();
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish(() => reject(new Error(`${name} was still running after ${options.timeoutMs} ms${last === undefined ? '' : ` at ${JSON.stringify(last)}`}`)));
      }, options.timeoutMs);
    };
    worker.on('message', (message: { progress?: unknown; value?: unknown; error?: string }) => {
      if ('progress' in message) {
        last = message.progress;
        options.onProgress?.(message.progress);
        arm();
      } else if (message.error !== undefined) {
        finish(() => reject(new Error(`${name} failed in its worker: ${message.error}`)));
      } else {
        finish(() => resolve(message.value));
      }
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the worker running ${name} exited with code ${code} before answering`))));
    arm();
  });
}

/** Commander's output settings in the house format (design.md §3): usage errors are one line plus hints. */
import type { OutputConfiguration } from 'commander';
import type { CliIo } from './io.js';

/**
 * Returns commander's output settings for a command: usage errors become the house format, one line
 * `manifest: …` and hint lines, pointing at that command's own help.
 */
export function usageOutput(io: CliIo, commandPath: string): OutputConfiguration {
  return {
    writeOut: (text) => io.stdout(text),
    writeErr: (text) => io.stderr(text),
    outputError: (text, write) => {
      const [first = '', ...rest] = text.trimEnd().split('\n');
      const hints = rest.map((line) => line.replace(/^\((.*)\)$/, '$1')).filter((line) => line !== '')
        .map((line) => `  hint: ${line.charAt(0).toLowerCase()}${line.slice(1)}\n`);
      write(`manifest: ${first.replace(/^error: /, '')}\n${hints.join('')}  hint: see '${commandPath} --help'\n`);
    },
  };
}

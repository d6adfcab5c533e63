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
      const unknown = /unknown command '([^']*)'/.exec(first)?.[1];
      const pointer = unknown === undefined ? undefined : foreignCommandHint(commandPath, unknown);
      if (pointer !== undefined) hints.push(`  hint: ${pointer}\n`);
      write(`manifest: ${first.replace(/^error: /, '')}\n${hints.join('')}  hint: see '${commandPath} --help'\n`);
    },
  };
}

/**
 * What users of `docker manifest`, manifest-tool or podman type, and what does it here: `docker manifest create`
 * then `push` is one command here, and there is no local list to annotate or remove.
 */
const FOREIGN_COMMANDS: Readonly<Record<string, string>> = {
  create: 'a list is assembled and pushed in one step: manifest push from-args --platforms … --template … --target …, or manifest pushml SPEC.yaml (docker manifest create + push)',
  annotate: 'platforms and annotations are given when the list is pushed (the spec\'s platform: and annotations:), or edited later with manifest index add',
  rm: 'nothing is kept locally: a pushed list is edited with manifest index remove (a static store\'s tag: manifest static rm)',
  version: 'manifest --version',
  add: 'manifest index add TARGET SOURCE… adds images to a pushed list',
  remove: 'manifest index remove TARGET --platform … takes platforms out of a pushed list',
};

/** A pointer for an unknown command that another tool has, or a spec file given to push without from-spec. */
export function foreignCommandHint(commandPath: string, name: string): string | undefined {
  if (/\.ya?ml$/i.test(name)) {
    return commandPath === 'manifest push' ? `push takes from-spec: manifest push from-spec ${name} (or manifest pushml ${name})` : `a spec is pushed with manifest pushml ${name}`;
  }
  if (commandPath === 'manifest push' && /[/:]/.test(name)) {
    return 'push takes from-spec, from-args or archives; a list is pushed as it is assembled (docker manifest push LIST has no counterpart)';
  }
  return commandPath === 'manifest' && Object.hasOwn(FOREIGN_COMMANDS, name) ? FOREIGN_COMMANDS[name] : undefined;
}

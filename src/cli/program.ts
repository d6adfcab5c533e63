/**
 * The commander program: global options, commands, and the context each command action runs in (its logger,
 * a lazily built registry client closed afterwards). Only commander is loaded eagerly, so --help is fast.
 */
import { Command } from 'commander';
import type { ManifestError as ManifestErrorClass } from '../errors.js';
import type { Logger } from '../log.js';
import type { parseReference as parseReferenceFn } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import { addInspectCommand } from './commands/inspect.js';
import type { CliIo } from './io.js';
import { addGlobalOptions, type GlobalOptions } from './registry-options.js';
import { packageVersion } from './version.js';

/** What a command action gets: the run's io, logger, a client factory, and the modules every command uses. */
export interface ActionContext {
  io: CliIo;
  logger: Logger;
  options: GlobalOptions;
  /** Returns the client for a command whose target registry is `registry` (built once per run). */
  client: (registry: string) => Promise<RegistryClient>;
  parseReference: typeof parseReferenceFn;
  ManifestError: typeof ManifestErrorClass;
}

/** Runs command actions with their context; shared by every command. */
export interface CommandContext {
  run(command: Command, action: (context: ActionContext) => Promise<void>): Promise<void>;
}

/** Builds the program for one run; `state` receives the global options and secrets as soon as they are parsed. */
export function createProgram(io: CliIo, state: { options?: GlobalOptions; secrets: string[] }): Command {
  const program = new Command('manifest');
  program
    .description('Assemble, push and inspect multi-architecture container image manifest lists and OCI indexes.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(`manifest: ${text.replace(/^error: /, '').trimEnd()}\n(see 'manifest --help')\n`),
    })
    .showSuggestionAfterError(true);
  addGlobalOptions(program);
  program.addHelpText('after', `
Exit codes: 0 ok, 2 bad input, 3 authentication refused, 4 not found, 5 integrity or limit,
6 registry unavailable or timeout, 7 partial push, 130 interrupted.`);

  const context: CommandContext = {
    async run(command, action) {
      const options = command.optsWithGlobals<GlobalOptions>();
      state.options = options;
      const [{ loggerFor, secretsOf, clientFor }, { parseReference }, { ManifestError }] = await Promise.all([
        import('./registry-options.js'),
        import('../ref.js'),
        import('../errors.js'),
      ]);
      state.secrets.push(...secretsOf(options));
      const logger = loggerFor(options, io, state.secrets);
      let client: Promise<RegistryClient> | undefined;
      try {
        await action({
          io,
          logger,
          options,
          client: (registry) => (client ??= clientFor(options, registry, io, logger, state.secrets)),
          parseReference,
          ManifestError,
        });
      } finally {
        if (client !== undefined) await (await client.catch(() => undefined))?.close();
      }
    },
  };
  addInspectCommand(program, context);
  return program;
}

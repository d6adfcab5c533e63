/**
 * The commander program: global options, commands, and the context each command action runs in (its logger,
 * a lazily built registry client closed afterwards). Only commander is loaded eagerly, so --help is fast.
 */
import { Command } from 'commander';
import { redact, type Logger } from '../log.js';
import type { Reference } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import { sharedSignal } from '../shared-signal.js';
import { addInspectCommand } from './commands/inspect.js';
import { addPushCommands } from './commands/push.js';
import { addStaticCommands } from './commands/static.js';
import { renderFailure } from './failure-output.js';
import type { CliIo } from './io.js';
import { addGlobalOptions, clientFor, loggerFor, secretsOf, type GlobalOptions } from './registry-options.js';
import { usageOutput } from './usage-output.js';
import { packageVersion } from './version.js';

/** What a command action gets: the run's io, logger and a client factory. */
export interface ActionContext {
  io: CliIo;
  logger: Logger;
  options: GlobalOptions;
  /**
   * Returns the run's client; `target` is the registry --username applies to, `others` the further registries
   * the command talks to. Called once per run: a second call is a bug.
   */
  client: (target: Reference, others?: readonly Reference[]) => Promise<RegistryClient>;
  /** Reports a failure as main would (one line, hints), with `prefix` before the message; returns its exit code. */
  report: (err: unknown, prefix?: string) => number;
  /** Aborted when the user interrupts or --timeout passes; pass it to every library call. */
  signal: AbortSignal;
  /** Masks the run's secrets (a password given on the command line) and credential patterns in text. */
  redact: (text: string) => string;
}

/** Runs command actions with their context; shared by every command. */
export interface CommandContext {
  /** The run's streams, for commander's output settings. */
  io: CliIo;
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
    .configureOutput(usageOutput(io, 'manifest'))
    .showSuggestionAfterError(true);
  addGlobalOptions(program);
  program.addHelpText('after', `
Exit codes: 0 ok, 1 internal bug, 2 bad input, 3 authentication refused, 4 not found,
5 integrity or limit, 6 registry unavailable or timeout, 7 partial push, 130 interrupted.`);

  const context: CommandContext = {
    io,
    async run(command, action) {
      const options = command.optsWithGlobals<GlobalOptions>();
      state.options = options;
      state.secrets.push(...secretsOf(options));
      const logger = loggerFor(options, io, state.secrets);
      let client: Promise<RegistryClient> | undefined;
      try {
        const signal = options.timeout === undefined ? io.signal : sharedSignal(io.signal, AbortSignal.timeout(options.timeout)) ?? io.signal;
        await action({
          io,
          signal,
          logger,
          options,
          client: (target, others = []) => {
            if (client !== undefined) throw new Error('the client of a run is built once');
            client = clientFor(options, target, others, io, logger, state.secrets);
            return client;
          },
          redact: (text) => redact(text, state.secrets),
          report: (err, prefix) => renderFailure(err, io, { debug: options.debug === true, secrets: state.secrets, ...(prefix === undefined ? {} : { prefix }) }),
        });
      } finally {
        if (client !== undefined) await (await client.catch(() => undefined))?.close();
      }
    },
  };
  addPushCommands(program, context);
  addInspectCommand(program, context);
  addStaticCommands(program, context);
  return program;
}

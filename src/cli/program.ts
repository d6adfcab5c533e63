/**
 * The commander program: global options, commands, and the context each command action runs in (its logger,
 * a lazily built registry client closed afterwards). Only commander is loaded eagerly, so --help is fast.
 * A command module declares its name, arguments, options and help with light imports only, and loads what does
 * the work (manifest/, registry/, the spec loader, packages) with `await import(…)` inside its action;
 * test/unit/lazy-loading.test.ts fails when a static import drags them into every start-up.
 */
import { Command } from 'commander';
import { redact } from '../log.js';
import type { RegistryClient } from '../registry/client.js';
import { deadlineSignal, sharedSignal } from '../shared-signal.js';
import type { CommandContext } from './command-context.js';
import { addBlobCommands } from './commands/blob.js';
import { addDigestCommand } from './commands/digest.js';
import { addIndexCommands } from './commands/index-edit.js';
import { addArchiveCommands } from './commands/archives.js';
import { addInspectCommand } from './commands/inspect.js';
import { addListCommands } from './commands/list.js';
import { addCheckCommand } from './commands/check.js';
import { addCompletionCommand } from './commands/completion.js';
import { addLoginCommands } from './commands/login.js';
import { addPushCommands } from './commands/push.js';
import { addStaticCommands } from './commands/static.js';
import { renderFailure } from './failure-output.js';
import type { CliIo } from './io.js';
import { addGlobalOptions, clientFor, formatDuration, loggerFor, secretsOf, type GlobalOptions } from './registry-options.js';
import { usageOutput } from './usage-output.js';
import { packageVersion } from './version.js';

/** Builds the program for one run; `state` receives the global options and secrets as soon as they are parsed. */
export function createProgram(io: CliIo, state: { options?: GlobalOptions; secrets: string[] }): Command {
  const program = new Command('manifest');
  program
    .description('Assemble, push and inspect multi-architecture container image manifest lists and OCI indexes.')
    .version(`${packageVersion()} (Node.js ${process.version})`, '-v, --version', 'print the version, and the Node.js version running it')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput(usageOutput(io, 'manifest'))
    .showSuggestionAfterError(true);
  addGlobalOptions(program);
  program.addHelpText('after', `
Examples:
  manifest pushml app.yaml                      # join per-platform images under one tag
  manifest inspect r.example/app:1              # what each platform pulls
  manifest check --nodes nodes.json ds.yaml     # before a rollout: does every node get an image?
  echo "$PW" | manifest login -u me --password-stdin r.example
  manifest <command> --help                     # each command's options and examples

Exit codes: 0 ok, 1 internal bug, 2 bad input, 3 authentication refused, 4 not found,
5 integrity or limit, 6 registry unavailable or timeout, 7 partial push, 8 pushed but the output
(stdout, --digest-file) could not be written, 9 a tag moved by another push after ours,
10 check: a platform is missing, 130 interrupted.

manifest-tool's spellings work too: one dash before a long option (-plain-http, -username alice),
=true or =false after a switch (--debug=true), and push's options before from-spec or from-args.`);

  const context: CommandContext = {
    io,
    async run(command, action) {
      const options = command.optsWithGlobals<GlobalOptions>();
      state.options = options;
      state.secrets.push(...secretsOf(options));
      const logger = loggerFor(options, io, state.secrets);
      let client: Promise<RegistryClient> | undefined;
      try {
        const signal = options.timeout === undefined ? io.signal : sharedSignal(io.signal, deadlineSignal(options.timeout, `the --timeout of ${formatDuration(options.timeout)}`)) ?? io.signal;
        await action({
          io,
          signal,
          logger,
          options,
          client: (target, others = []) => {
            if (client !== undefined) throw new Error('the client of a run is built once');
            client = clientFor(options, target, others, io, logger, state.secrets, signal);
            return client;
          },
          redact: (text) => redact(text, state.secrets),
          secrets: state.secrets,
          report: (err, prefix) => renderFailure(err, io, { debug: options.debug === true, secrets: state.secrets, ...(prefix === undefined ? {} : { prefix }) }),
        });
      } finally {
        // Closing connections one by one took 5-15 ms after a command's last output; an exit closes them at once.
        if (client !== undefined && io.exitsAfterRun !== true) await (await client.catch(() => undefined))?.close();
      }
    },
  };
  addPushCommands(program, context);
  addArchiveCommands(program, context);
  addInspectCommand(program, context);
  addIndexCommands(program, context);
  addDigestCommand(program, context);
  addListCommands(program, context);
  addBlobCommands(program, context);
  addCheckCommand(program, context);
  addLoginCommands(program, context);
  addCompletionCommand(program, context);
  addStaticCommands(program, context);
  return program;
}

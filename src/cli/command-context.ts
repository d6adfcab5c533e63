/**
 * The context command actions run in, shared by program.ts (which builds it) and commands/*.ts (which use it): a
 * module of its own so that imports point one way, program -> commands -> command-context.
 */
import type { Command } from 'commander';
import type { Logger } from '../log.js';
import type { Reference } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import type { CliIo } from './io.js';
import type { GlobalOptions } from './registry-options.js';

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
  /** The run's literal secrets: a command that reads one (login's password) adds it, so every output masks it. */
  secrets: string[];
}

/** Runs command actions with their context; shared by every command. */
export interface CommandContext {
  /** The run's streams, for commander's output settings. */
  io: CliIo;
  run(command: Command, action: (context: ActionContext) => Promise<void>): Promise<void>;
}

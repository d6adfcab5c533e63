/**
 * Rewrites a command line written for manifest-tool (Go's flag conventions, urfave/cli's option placement) into
 * the one commander parses, driven only by the options the program declares, so every command gets it:
 * - one dash before a long option name is read as two (`-plain-http`, `-username alice`, `-docker-cfg DIR`);
 *   short options (`-u`, `-p`, `-q`) keep their meaning, and a single-dash word that names none of our long
 *   options is left for commander to read (or refuse);
 * - a boolean option may carry Go's `=true` / `=false` (`--debug=true`, `-insecure=false`);
 * - an option of a subcommand given before it (`push --type oci from-spec f.yaml`, where manifest-tool declares
 *   `--type`) is moved after the subcommand's name.
 * Nothing after `--`, and no option's value, is rewritten.
 */
import type { Command, Option } from 'commander';
import { ManifestError } from '../errors.js';

/** The spellings Go's strconv.ParseBool accepts, which manifest-tool's flags take after `=`. */
const GO_TRUE: ReadonlySet<string> = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const GO_FALSE: ReadonlySet<string> = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

function findOption(commands: readonly Command[], flag: string): Option | undefined {
  for (const command of commands) {
    const found = command.options.find((option) => option.long === flag || option.short === flag);
    if (found !== undefined) return found;
  }
  return undefined;
}

function descendants(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...descendants(sub)]);
}

function subcommandNamed(command: Command, name: string): Command | undefined {
  return command.commands.find((sub) => sub.name() === name || sub.aliases().includes(name));
}

/**
 * Refuses the program's --version after a command: commander would print the version and exit 0 with the
 * command not run, and `manifest pushml -v spec.yaml` (meant as "verbose") would pass in CI with nothing pushed.
 */
function checkVersionPlacement(option: Option | undefined, token: string, program: Command, current: Command): void {
  if (option === undefined || current === program || option.long !== '--version' || !program.options.includes(option)) return;
  const shown = token === '--version' ? token : `${token} (--version)`;
  throw new ManifestError('USAGE', `${shown} goes before the command, as in 'manifest --version'; ${current.name()} has no such option (for more output: --debug)`);
}

/** Returns `argv` (the arguments after the program name) rewritten as described above. */
export function normalizeArgv(program: Command, argv: readonly string[]): string[] {
  const out: string[] = [];
  // Options meant for a subcommand not reached yet, placed after its name once it comes.
  let pending: string[] = [];
  let chain: Command[] = [program];
  let current = program;
  for (let i = 0; i < argv.length; i += 1) {
    const token = argv[i] ?? '';
    if (token === '--') {
      out.push(...pending, ...argv.slice(i));
      pending = [];
      return out;
    }
    if (!token.startsWith('-') || token.length < 2) {
      const sub = subcommandNamed(current, token);
      if (sub !== undefined) {
        out.push(token);
        // Options meant further down (`manifest -type oci push from-spec`) wait for the command that runs.
        if (sub.commands.length === 0) {
          out.push(...pending);
          pending = [];
        }
        current = sub;
        chain = [sub, ...chain];
      } else {
        out.push(token);
      }
      continue;
    }
    const doubleDash = token.startsWith('--');
    const body = token.slice(doubleDash ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    // One dash and one letter (or a cluster/attached value such as -ualice) is a short option unless the word is
    // one of our long names: `-plain-http` is --plain-http, not -p with the value "lain-http".
    const long = `--${name}`;
    const spelledLong = doubleDash || (name.length > 1 && (findOption([...chain, ...descendants(current)], long) !== undefined || name === 'help'));
    if (!spelledLong) {
      const flag = token.slice(0, 2);
      let short = findOption(chain, flag);
      checkVersionPlacement(short, flag, program, current);
      let target = out;
      if (short === undefined) {
        short = findOption(descendants(current), flag);
        if (short !== undefined) target = pending;
      }
      target.push(token);
      if (short !== undefined && takesValue(short) && token.length === 2 && i + 1 < argv.length) target.push(argv[(i += 1)] ?? '');
      continue;
    }
    let option = findOption(chain, long);
    checkVersionPlacement(option, long, program, current);
    let target = out;
    if (option === undefined) {
      option = findOption(descendants(current), long);
      if (option !== undefined) target = pending;
    }
    if (option === undefined) {
      out.push(doubleDash ? token : '--help');
      continue;
    }
    if (!takesValue(option)) {
      if (inline === undefined || GO_TRUE.has(inline)) target.push(long);
      else if (!GO_FALSE.has(inline)) target.push(`${long}=${inline}`); // commander refuses it: a usage error
      continue;
    }
    if (inline !== undefined) target.push(`${long}=${inline}`);
    else {
      target.push(long);
      if (i + 1 < argv.length) target.push(argv[(i += 1)] ?? '');
    }
  }
  out.push(...pending);
  return out;
}

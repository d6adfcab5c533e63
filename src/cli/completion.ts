/**
 * `manifest completion bash|zsh|fish`: a completion script generated from the commander program itself (its
 * commands, aliases, options, option choices and arguments), so a command added to the program completes without
 * anyone keeping a list. Options and arguments whose value names a file or directory complete file names.
 */
import type { Command, Option } from 'commander';

/** Shells a script can be generated for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface OptionInfo {
  long?: string;
  short?: string;
  description: string;
  takesValue: boolean;
  /** Fixed values (commander's choices). */
  choices: string[];
  /** Whether the value is a file or directory. */
  files: boolean;
}

interface CommandInfo {
  /** Names from the program down ([] for the program itself). */
  path: string[];
  description: string;
  subcommands: { name: string; aliases: string[]; description: string }[];
  options: OptionInfo[];
  /** Whether its arguments are files. */
  fileArguments: boolean;
  /** Fixed values of its first argument (commander's choices), such as the shells of `completion`. */
  argumentChoices: string[];
}

/** A value placeholder or argument that names a path: <file>, <path>, <file...>, <dir>, [registry] is not. */
const PATH_NAME = /file|path|dir|cfg|spec/i;

function optionInfo(option: Option): OptionInfo {
  const takesValue = option.required || option.optional;
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? '';
  return {
    ...(option.long === undefined ? {} : { long: option.long }),
    ...(option.short === undefined ? {} : { short: option.short }),
    description: option.description,
    takesValue,
    choices: option.argChoices ?? [],
    files: takesValue && (PATH_NAME.test(placeholder) || /-file$|-cfg$/.test(option.long ?? '')),
  };
}

/** Walks the program into the commands a user can type, each with its own options and the global ones. */
function collect(program: Command): CommandInfo[] {
  const globals = program.options.map(optionInfo);
  const help: OptionInfo = { long: '--help', short: '-h', description: 'show help', takesValue: false, choices: [], files: false };
  const out: CommandInfo[] = [];
  const visit = (command: Command, path: string[]): void => {
    const own = command === program ? [] : command.options.map(optionInfo);
    const subs = command.commands.filter((c) => c.name() !== 'help');
    out.push({
      path,
      description: command.description(),
      subcommands: subs.map((c) => ({ name: c.name(), aliases: c.aliases(), description: c.description() })),
      options: [...own, ...globals, help],
      fileArguments: command.registeredArguments.some((a) => PATH_NAME.test(a.name())),
      argumentChoices: command.registeredArguments[0]?.argChoices ?? [],
    });
    for (const sub of subs) {
      for (const name of [sub.name(), ...sub.aliases()]) visit(sub, [...path, name]);
    }
  };
  visit(program, []);
  return out;
}

function flagsOf(options: readonly OptionInfo[]): string[] {
  return options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined);
}

/** Quotes text for a single-quoted shell string. */
function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function bashFunction(program: Command, name: string): string {
  const commands = collect(program);
  const valueOptions = [...new Set(commands.flatMap((c) => flagsOf(c.options.filter((o) => o.takesValue))))];
  const cases = commands.map((c) => {
    const key = c.path.join(' ');
    const subs = [...c.subcommands.flatMap((s) => [s.name, ...s.aliases]), ...c.argumentChoices];
    const values = c.options.filter((o) => o.takesValue).map((o) => {
      const action = o.choices.length > 0 ? `COMPREPLY=($(compgen -W ${quote(o.choices.join(' '))} -- "$cur"))` : o.files ? 'COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()';
      return `          ${flagsOf([o]).join('|')}) ${action}; return ;;`;
    });
    return `    ${quote(key)})
      subs=${quote(subs.join(' '))}
      opts=${quote(flagsOf(c.options).join(' '))}
      files=${c.fileArguments ? 1 : 0}
      if [[ $valueof == 1 ]]; then
        case "$prev" in
${values.join('\n')}
        esac
      fi ;;`;
  });
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  return `${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmdpath="" skip=0 i w subs opts files valueof=0
  local value_options=" ${valueOptions.join(' ')} "
  # The command path: words that are not options, nor the values of options that take one.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ $skip == 1 ]]; then skip=0; continue; fi
    case "$w" in
      --*=*) continue ;;
      -*) [[ $value_options == *" $w "* ]] && skip=1; continue ;;
    esac
    case " $(${fn}_subs "$cmdpath") " in
      *" $w "*) cmdpath="\${cmdpath:+$cmdpath }$w" ;;
    esac
  done
  [[ $COMP_CWORD -gt 1 && $value_options == *" $prev "* ]] && valueof=1
  case "$cmdpath" in
${cases.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n $subs ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  elif [[ $files == 1 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=()
  fi
}
${fn}_subs() {
  case "$1" in
${commands.map((c) => `    ${quote(c.path.join(' '))}) echo ${quote(c.subcommands.flatMap((s) => [s.name, ...s.aliases]).join(' '))} ;;`).join('\n')}
  esac
}`;
}

function bashScript(program: Command, name: string): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  return `# bash completion for ${name}, generated by \`${name} completion bash\`.
# Load it in this shell:   source <(${name} completion bash)
# or for every shell:       ${name} completion bash > ~/.local/share/bash-completion/completions/${name}
${bashFunction(program, name)}
complete -o filenames -F ${fn} ${name}
`;
}

function zshScript(program: Command, name: string): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  // zsh runs the bash function through its own bashcompinit layer: one generated logic for both shells.
  return `#compdef ${name}
# zsh completion for ${name}, generated by \`${name} completion zsh\`.
# Load it in this shell:   source <(${name} completion zsh)
# or for every shell:       ${name} completion zsh > "\${fpath[1]}/_${name}"
autoload -U +X compinit && { (( $+functions[compdef] )) || compinit; }
autoload -U +X bashcompinit && bashcompinit
${bashFunction(program, name)}
complete -o filenames -F ${fn} ${name}
`;
}

function fishScript(program: Command, name: string): string {
  const commands = collect(program);
  const lines = [
    `# fish completion for ${name}, generated by \`${name} completion fish\`.`,
    `# Load it in this shell:   ${name} completion fish | source`,
    `# or for every shell:       ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -f`,
  ];
  const allNames = (c: CommandInfo): string[] => c.subcommands.flatMap((s) => [s.name, ...s.aliases]);
  for (const c of commands) {
    // Where this command's words apply: its path seen, and none of its subcommands yet.
    const seen = c.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${c.path[c.path.length - 1] ?? ''}`;
    const notDeeper = allNames(c).length === 0 || c.path.length === 0 ? '' : `; and not __fish_seen_subcommand_from ${allNames(c).join(' ')}`;
    const condition = quote(`${seen}${notDeeper}`);
    for (const sub of c.subcommands) {
      for (const n of [sub.name, ...sub.aliases]) lines.push(`complete -c ${name} -n ${condition} -a ${quote(n)} -d ${quote(sub.description)}`);
    }
    if (c.path.length === 0) continue;
    if (c.fileArguments) lines.push(`complete -c ${name} -n ${condition} -F`);
    if (c.argumentChoices.length > 0) lines.push(`complete -c ${name} -n ${condition} -a ${quote(c.argumentChoices.join(' '))}`);
    for (const o of c.options) {
      const parts = [`complete -c ${name} -n ${condition}`];
      if (o.long !== undefined) parts.push(`-l ${o.long.slice(2)}`);
      if (o.short !== undefined) parts.push(`-s ${o.short.slice(1)}`);
      if (o.takesValue) parts.push(o.choices.length > 0 ? `-x -a ${quote(o.choices.join(' '))}` : o.files ? '-r -F' : '-x');
      parts.push(`-d ${quote(o.description)}`);
      lines.push(parts.join(' '));
    }
  }
  // The program's own options, before any command.
  const root = commands[0];
  for (const o of root?.options ?? []) {
    const parts = [`complete -c ${name} -n __fish_use_subcommand`];
    if (o.long !== undefined) parts.push(`-l ${o.long.slice(2)}`);
    if (o.short !== undefined) parts.push(`-s ${o.short.slice(1)}`);
    if (o.takesValue) parts.push(o.files ? '-r -F' : '-x');
    parts.push(`-d ${quote(o.description)}`);
    lines.push(parts.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

/** Returns the completion script of `program` for a shell; the program's name is the command completed. */
export function completionScript(program: Command, shell: CompletionShell): string {
  const name = program.name();
  if (shell === 'bash') return bashScript(program, name);
  if (shell === 'zsh') return zshScript(program, name);
  return fishScript(program, name);
}

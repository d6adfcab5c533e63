/** `manifest completion bash|zsh|fish`: prints a shell completion script made from the program's own commands. */
import { Argument, type Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { usageOutput } from '../usage-output.js';

const SHELLS = ['bash', 'zsh', 'fish'];

/** Declares the completion command. */
export function addCompletionCommand(program: Command, context: CommandContext): void {
  program
    .command('completion')
    .configureOutput(usageOutput(context.io, 'manifest completion'))
    .description('print a completion script for bash, zsh or fish (commands, options, file names)')
    .addArgument(new Argument('<shell>', 'the shell: bash, zsh or fish').choices(SHELLS))
    .addHelpText('after', `
Examples:
  source <(manifest completion bash)                                  # this bash session
  manifest completion bash > ~/.local/share/bash-completion/completions/manifest
  manifest completion zsh > "\${fpath[1]}/_manifest"                  # then start a new zsh
  manifest completion fish > ~/.config/fish/completions/manifest.fish`)
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('../completion.js');
      context.io.stdout(completionScript(program, shell));
    });
}

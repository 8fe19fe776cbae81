#!/usr/bin/env node
// The minigpt command: a thin shell over the library, one file per command in ./commands.
import { ready } from '@embedlab/runtime';
import { Command, CommanderError, Option } from 'commander';
import { refuseRepeatedFlags } from './commands/arguments.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { inspectCommand } from './commands/inspect.js';
import { prepareCommand } from './commands/prepare.js';
import { sampleCommand } from './commands/sample.js';
import { trainCommand } from './commands/train.js';

const program = new Command()
  .name('minigpt')
  .description('Train, sample, evaluate and inspect small GPTs on TensorFlow.js WASM')
  .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`minigpt: ${text.replace(/^error: /, '').trim()} (see --help)\n`) })
  .hook('preAction', async (command) => {
    await ready({ backend: command.opts().backend });
  });

for (const command of [prepareCommand, trainCommand, sampleCommand, evalCommand, inspectCommand, compareCommand, exportCommand])
  program.addCommand(command.copyInheritedSettings(program));
refuseRepeatedFlags(program);

/** The library names its options as code (`force: true`, `tokenizer: gpt2:FILE`): here they are the flags (--force, --tokenizer gpt2:FILE). */
function asFlags(message: string): string {
  return message.replace(/`([a-z][A-Za-z]*)(?:: ([^`]+))?`/g, (_, name: string, value: string | undefined) => {
    const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    return value === undefined || value === 'true' ? flag : `${flag} ${value}`;
  });
}

// `minigpt ... | head` closes stdout early: stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    console.error(`minigpt: ${asFlags((error as Error).message.split('\n')[0]!)}`);
    // A command that was interrupted has set 130 already.
    if (!process.exitCode) process.exitCode = 1;
  }
}

import { checkOutputDirectory, type OutputRules, saveHuggingFaceDirectory } from '@embedlab/mini-gpt/node';
import { Command, Option } from 'commander';
import { loadModel, type ModelSource } from './arguments.js';

interface ExportFlags extends ModelSource {
  format: 'hf';
  out: string;
  force?: boolean;
  json?: boolean;
}

async function exportAction(flags: ExportFlags): Promise<void> {
  const source = (flags.checkpoint ?? flags.hf)!;
  const rules: OutputRules = { kind: 'Hugging Face directory', force: flags.force ?? false, sources: [source] };
  // Said before the model is loaded (seconds, and memory, for GPT-2).
  checkOutputDirectory(flags.out, rules);
  const { model, tokenizer, label } = loadModel(flags);
  const controller = new AbortController();
  // Ctrl-C, a kill or a closed terminal: what was written is removed, and that is said.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const abort = () => controller.abort(new Error(`interrupted; nothing was written to ${flags.out}`));
  for (const signal of signals) process.once(signal, abort);
  try {
    const notes = await saveHuggingFaceDirectory(flags.out, model, tokenizer, { force: flags.force ?? false, source, signal: controller.signal });
    if (flags.json) {
      console.log(JSON.stringify({ out: flags.out, format: flags.format, notes }));
      return;
    }
    console.log(
      `wrote ${flags.out}: a Hugging Face GPT-2 directory of ${label} (load it with GPT2LMHeadModel.from_pretrained, or minigpt ... --hf ${flags.out})`,
    );
    for (const note of notes) console.log(`note: ${note}`);
  } catch (error) {
    if (controller.signal.aborted) process.exitCode = 130;
    throw error;
  } finally {
    for (const signal of signals) process.off(signal, abort);
    model.dispose();
  }
}

export const exportCommand = new Command('export')
  .description('write a checkpoint in another format: hf, a Hugging Face GPT-2 directory (model.safetensors, config.json, tokenizer.json)')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .addOption(new Option('--format <format>', 'the format to write').choices(['hf']).makeOptionMandatory())
  .requiredOption('--out <dir>', 'the directory to write (whole, or not at all)')
  .option('--force', 'replace --out if it holds a Hugging Face directory minigpt export wrote (never other files)')
  .option('--json', 'the notes as one JSON object')
  .action(exportAction);

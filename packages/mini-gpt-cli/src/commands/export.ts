import { saveHuggingFaceDirectory } from '@embedlab/mini-gpt/node';
import { Command, Option } from 'commander';
import { loadModel, type ModelSource } from './arguments.js';

interface ExportFlags extends ModelSource {
  format: 'hf';
  out: string;
  force?: boolean;
  json?: boolean;
}

function exportAction(flags: ExportFlags): void {
  const { model, tokenizer, label } = loadModel(flags);
  try {
    const notes = saveHuggingFaceDirectory(flags.out, model, tokenizer, { force: flags.force ?? false, source: (flags.checkpoint ?? flags.hf)! });
    if (flags.json) {
      console.log(JSON.stringify({ out: flags.out, format: flags.format, notes }));
      return;
    }
    console.log(
      `wrote ${flags.out}: a Hugging Face GPT-2 directory of ${label} (load it with GPT2LMHeadModel.from_pretrained, or minigpt ... --hf ${flags.out})`,
    );
    for (const note of notes) console.log(`note: ${note}`);
  } finally {
    model.dispose();
  }
}

export const exportCommand = new Command('export')
  .description('write a checkpoint in another format: hf, a Hugging Face GPT-2 directory (model.safetensors, config.json, tokenizer.json)')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .addOption(new Option('--format <format>', 'the format to write').choices(['hf']).makeOptionMandatory())
  .requiredOption('--out <dir>', 'the directory to write (whole, or not at all)')
  .option('--force', 'replace --out if it exists')
  .option('--json', 'the notes as one JSON object')
  .action(exportAction);

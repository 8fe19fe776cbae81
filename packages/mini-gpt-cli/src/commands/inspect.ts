import { describeTrained, validateTrainOptions } from '@embedlab/mini-gpt';
import { Command } from 'commander';
import { loadModel, type ModelSource } from './arguments.js';
import { modelSettings, settingsTable } from './effective-config.js';

interface InspectFlags extends ModelSource {
  json?: boolean;
}

function inspect(dir: string | undefined, flags: InspectFlags): void {
  if (dir !== undefined && flags.checkpoint !== undefined) throw new Error('give the checkpoint directory once: as an argument or as --checkpoint');
  const { model, tokenizer, step, label, training } = loadModel({ ...flags, ...(dir === undefined ? {} : { checkpoint: dir }) }, { training: true });
  const parts = model.parameterCount();
  const settings = modelSettings(model);
  const options = training && validateTrainOptions(training);
  const specials = [...tokenizer.specialTokens.keys()];
  if (flags.json) {
    const about = {
      label,
      step,
      parameters: parts,
      model: settings,
      training: options ?? null,
      tokenizer: { kind: tokenizer.kind, vocabSize: tokenizer.vocabSize, specials },
    };
    console.log(JSON.stringify(about, null, 2));
    return;
  }
  const rows: [string, number][] = [
    ['token embedding (wte)', parts.tokenEmbedding],
    ['positions (wpe)', parts.positions],
    ['attention', parts.attention],
    ['MLP', parts.mlp],
    ['LayerNorms', parts.norms],
    ['output head (lm_head)', parts.head],
    ['total', parts.total],
    ['saved by weight tying', parts.savedByTying],
  ];
  console.log(`${label}, step ${step}`);
  for (const [part, count] of rows) console.log(`  ${part.padEnd(24)} ${count.toLocaleString('en-US').padStart(14)}`);
  console.log(`tokenizer ${tokenizer.kind}, ${tokenizer.vocabSize} tokens${specials.length ? `, special ${specials.join(' ')}` : ''}`);
  console.log(settingsTable(settings, options).join('\n'));
  if (!options) console.log('training options: none saved (no optimizer.safetensors)');
  else console.log(`trained ${describeTrained(model.config, options.train)}`);
}

export const inspectCommand = new Command('inspect')
  .description('parameters by part, every model setting and training option (defaults filled in), and the tokenizer of a checkpoint')
  .argument('[dir]', 'checkpoint directory (or --checkpoint DIR)')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .option('--json', 'the same as one JSON object')
  .action(inspect);

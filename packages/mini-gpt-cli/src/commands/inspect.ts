import { Command } from 'commander';
import { loadModel, type ModelSource } from './arguments.js';

function inspect(flags: ModelSource): void {
  const { model, tokenizer, step, label } = loadModel(flags);
  const parts = model.parameterCount();
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
  console.log(`config ${JSON.stringify(model.config)}`);
  const specials = [...tokenizer.specialTokens.keys()];
  console.log(`tokenizer ${tokenizer.kind}, ${tokenizer.vocabSize} tokens${specials.length ? `, special ${specials.join(' ')}` : ''}`);
}

export const inspectCommand = new Command('inspect')
  .description('parameters by part, config and tokenizer of a checkpoint')
  .option('--checkpoint <dir>', 'checkpoint directory')
  .option('--hf <dir>', 'Hugging Face GPT-2 directory')
  .action(inspect);

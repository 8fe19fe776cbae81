import { ready } from '@embedlab/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import { createModel } from './model.js';

const config = { vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true, position: 'learned' as const, tieWeights: true, gelu: 'tanh' as const };

/** −log softmax(logits)[target], in float64 from the logits themselves. */
function negativeLogLikelihood(logits: number[], target: number): number {
  const max = Math.max(...logits);
  const logSum = Math.log(logits.reduce((sum, l) => sum + Math.exp(l - max), 0)) + max;
  return logSum - logits[target]!;
}

describe('evaluate', () => {
  beforeAll(async () => {
    await ready();
  });

  it('averages the next-token loss over consecutive windows, each token predicted once', () => {
    const model = createModel(config, 4);
    const ids = [1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4];
    // Windows of blockSize 4: ids[0..4) predicting ids[1..5), then ids[4..8) predicting ids[5..9); the last 2 tokens are left over.
    let total = 0;
    for (const start of [0, 4]) {
      const logits = model.forward([ids.slice(start, start + 4)]).arraySync() as number[][][];
      for (let t = 0; t < 4; t++) total += negativeLogLikelihood(logits[0]![t]!, ids[start + t + 1]!);
    }
    const result = evaluate(model, ids);
    expect(result.tokens).toBe(8);
    expect(result.loss).toBeCloseTo(total / 8, 5);
    expect(result.perplexity).toBeCloseTo(Math.exp(total / 8), 4);
    model.dispose();
  });

  it('needs at least blockSize + 1 tokens', () => {
    const model = createModel(config, 4);
    expect(() => evaluate(model, [1, 2, 3, 4])).toThrow('the text has 4 tokens, fewer than blockSize + 1 = 5');
    model.dispose();
  });
});

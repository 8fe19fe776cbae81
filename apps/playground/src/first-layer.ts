// What the first layer does with positions and with the token table, said the same way wherever
// the whole-prompt picture is made (the worker for the model in use, the Embed panel for its own tables).
import type { PositionKind } from '@embedlab/mini-gpt';

/** Whether a position row is added to each token's row, and if not, where positions act. */
export function positionNote(kind: PositionKind): string {
  switch (kind) {
    case 'learned':
      return 'wpe is a learned table: row p is added to the token at position p.';
    case 'sinusoidal':
      return 'wpe is the fixed sinusoidal table (not trained): row p is added to the token at position p.';
    case 'rope':
      return 'No position row is added: RoPE rotates each head’s queries and keys by their positions inside attention, so the first block reads the token rows alone.';
    case 'alibi':
      return 'No position row is added: ALiBi subtracts a penalty growing with distance from the attention scores, so the first block reads the token rows alone.';
    case 'none':
      return 'No positions at all: only the causal mask tells the model what came before.';
  }
}

/** Whether wte is also the output head. */
export function tiedNote(tied: boolean): string {
  return tied ? 'wte is also the output head (tied weights): the same rows score the next token.' : 'The output head has a matrix of its own (untied).';
}

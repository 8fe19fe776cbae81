/** A tiny GPT config for `vocabSize` ids (1 layer, 2 heads, 16 dims, context 8), with `fields` on top. */
export function tinyGPTConfig<T extends object = {}>(
  vocabSize: number,
  fields?: T,
): { vocabSize: number; blockSize: number; nLayer: number; nHead: number; nEmbd: number } & T;

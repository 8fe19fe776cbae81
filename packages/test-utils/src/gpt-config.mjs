// The small GPT the tests train: one layer, two heads, 16 dims, a context of 8; every other field
// of mini-gpt's config takes its default unless given.

/** A tiny GPT config for `vocabSize` ids, with `fields` on top. */
export function tinyGPTConfig(vocabSize, fields = {}) {
  return { vocabSize, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, ...fields };
}

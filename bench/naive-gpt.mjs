// The baseline: the same GPT written the way a tfjs user would write it, with tf.matMul on
// transposed and 3-D batched operands, GELU through tf.pow, and the optimizer from tfjs. The
// embedding lookup uses the runtime's scatter-gradient op, since tf.gather's gradient has no
// wasm kernel at all (a user has to write that much to train on wasm).
import { embeddingLookup, tf } from '@embedlab/runtime';

export function createNaiveGpt({ vocabSize, blockSize, nLayer, nHead, nEmbd }, seed = 1) {
  let s = seed;
  const normal = (shape, std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', s++));
  const filled = (shape, v) => tf.variable(tf.fill(shape, v));
  const p = {
    wte: normal([vocabSize, nEmbd]),
    wpe: normal([blockSize, nEmbd]),
    lnf: [filled([nEmbd], 1), filled([nEmbd], 0)],
    blocks: Array.from({ length: nLayer }, () => ({
      ln1: [filled([nEmbd], 1), filled([nEmbd], 0)],
      ln2: [filled([nEmbd], 1), filled([nEmbd], 0)],
      attn: normal([3 * nEmbd, nEmbd]), // PyTorch layout [out, in]: used with transposeB
      attnBias: filled([3 * nEmbd], 0),
      proj: normal([nEmbd, nEmbd]),
      projBias: filled([nEmbd], 0),
      fc: normal([4 * nEmbd, nEmbd]),
      fcBias: filled([4 * nEmbd], 0),
      fcProj: normal([nEmbd, 4 * nEmbd]),
      fcProjBias: filled([nEmbd], 0),
    })),
  };
  const variables = [
    p.wte,
    p.wpe,
    ...p.lnf,
    ...p.blocks.flatMap((b) => [...b.ln1, ...b.ln2, b.attn, b.attnBias, b.proj, b.projBias, b.fc, b.fcBias, b.fcProj, b.fcProjBias]),
  ];
  const layerNorm = (x, [w, b]) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
  };
  // A Linear layer as PyTorch code reads: x @ Wᵀ + b, batched over [B, T, C].
  const dense = (x, w, b) => {
    const [B] = x.shape;
    return tf.add(tf.matMul(x, tf.tile(tf.expandDims(w, 0), [B, 1, 1]), false, true), b);
  };
  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
  const mask = tf.linalg.bandPart(tf.ones([blockSize, blockSize]), -1, 0);
  const forward = (ids) => {
    const [B, T] = ids.shape;
    const hd = nEmbd / nHead;
    let x = tf.add(embeddingLookup(p.wte, ids), tf.slice(p.wpe, [0, 0], [T, nEmbd]));
    for (const block of p.blocks) {
      const h = layerNorm(x, block.ln1);
      const [q, k, v] = tf.split(dense(h, block.attn, block.attnBias), 3, 2).map((t) => tf.transpose(tf.reshape(t, [B, T, nHead, hd]), [0, 2, 1, 3]));
      let att = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd));
      att = tf.where(tf.equal(tf.slice(mask, [0, 0], [T, T]), 0), tf.fill(att.shape, -1e9), att);
      const y = tf.reshape(tf.transpose(tf.matMul(tf.softmax(att), v), [0, 2, 1, 3]), [B, T, nEmbd]);
      x = tf.add(x, dense(y, block.proj, block.projBias));
      x = tf.add(x, dense(gelu(dense(layerNorm(x, block.ln2), block.fc, block.fcBias)), block.fcProj, block.fcProjBias));
    }
    x = layerNorm(x, p.lnf);
    return tf.matMul(x, tf.tile(tf.expandDims(p.wte, 0), [B, 1, 1]), false, true);
  };
  const optimizer = tf.train.adam(1e-3, 0.9, 0.95);
  return {
    variables,
    step(x, y) {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(y, [-1]), vocabSize), tf.reshape(forward(x), [-1, vocabSize])),
        true,
        variables,
      );
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    },
  };
}

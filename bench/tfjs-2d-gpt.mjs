// The careful-user baseline: the same GPT as a tfjs user who knows the library writes it, the way
// tfjs-layers' Dense runs — activations kept 2-D ([B·T, C]), every Linear one unbatched
// tf.fused.matMul with its bias (weights stored [in, out], so no transposes), tfjs's own ops for
// the rest (tf.moments LayerNorm, tanh GELU as products, 4-D tf.matMul attention with an additive
// mask, tf.dropout where nanoGPT has dropout, softmax cross-entropy). Only tfjs-core: the token
// embedding is a one-hot product (tf.gather's gradient has no wasm kernel; at a character
// vocabulary the product is cheap). The step matches nanoGPT's: global-norm clipping to 1,
// decoupled weight decay on matrices, tfjs's Adam with betas 0.9/0.95.
import { tf } from '@embedlab/runtime';

export function create2dGpt({ vocabSize, blockSize, nLayer, nHead, nEmbd, dropout = 0 }, { weightDecay = 0.1, learningRate = 1e-3, seed = 1 } = {}) {
  let s = seed;
  const normal = (shape, std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', s++));
  const filled = (shape, v) => tf.variable(tf.fill(shape, v));
  const norm = () => [filled([nEmbd], 1), filled([nEmbd], 0)];
  const p = {
    wte: normal([vocabSize, nEmbd]),
    wpe: normal([blockSize, nEmbd]),
    lnf: norm(),
    blocks: Array.from({ length: nLayer }, () => ({
      ln1: norm(),
      ln2: norm(),
      attn: [normal([nEmbd, 3 * nEmbd]), filled([3 * nEmbd], 0)],
      proj: [normal([nEmbd, nEmbd]), filled([nEmbd], 0)],
      fc: [normal([nEmbd, 4 * nEmbd]), filled([4 * nEmbd], 0)],
      fcProj: [normal([4 * nEmbd, nEmbd]), filled([nEmbd], 0)],
    })),
  };
  const variables = [p.wte, p.wpe, ...p.lnf, ...p.blocks.flatMap((b) => [...b.ln1, ...b.ln2, ...b.attn, ...b.proj, ...b.fc, ...b.fcProj])];
  const matrices = variables.filter((v) => v.rank >= 2);
  const hd = nEmbd / nHead;
  const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([blockSize, blockSize]), -1, 0)), -1e9));
  const linear = (x, [w, b]) => tf.fused.matMul({ a: x, b: w, bias: b });
  const layerNorm = (x, [g, b]) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI)))));
  const drop = (x, training) => (training && dropout > 0 ? tf.dropout(x, dropout) : x);

  /** Logits [B·T, V] for ids [B, T]. */
  const forward = (ids, training) => {
    const [B, T] = ids.shape;
    const heads = (t) => tf.transpose(tf.reshape(t, [B, T, nHead, hd]), [0, 2, 1, 3]);
    const tokens = tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), vocabSize), p.wte);
    let x = drop(tf.reshape(tf.add(tf.reshape(tokens, [B, T, nEmbd]), tf.slice(p.wpe, [0, 0], [T, nEmbd])), [B * T, nEmbd]), training);
    const causal = tf.slice(mask, [0, 0], [T, T]);
    for (const block of p.blocks) {
      const [q, k, v] = tf.split(linear(layerNorm(x, block.ln1), block.attn), 3, 1).map(heads);
      const att = drop(tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), causal)), training);
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, nEmbd]);
      x = tf.add(x, drop(linear(y, block.proj), training));
      x = tf.add(x, drop(linear(gelu(linear(layerNorm(x, block.ln2), block.fc)), block.fcProj), training));
    }
    return tf.matMul(layerNorm(x, p.lnf), p.wte, false, true);
  };
  const optimizer = tf.train.adam(learningRate, 0.9, 0.95, 1e-8);
  return {
    variables,
    /** One optimizer step on ids x and targets y ([B, T] int32); returns the loss. */
    step(x, y) {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(y, [-1]), vocabSize), forward(x, true)), variables);
      const loss = value.dataSync()[0];
      const total = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
      const clip = Math.min(1, 1 / (total + 1e-6));
      const clipped = clip < 1 ? tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, clip)]))) : grads;
      tf.tidy(() => {
        for (const v of matrices) v.assign(tf.mul(v, 1 - learningRate * weightDecay));
      });
      optimizer.applyGradients(clipped);
      tf.dispose([value, ...Object.values(grads), ...(clipped === grads ? [] : Object.values(clipped))]);
      return loss;
    },
  };
}

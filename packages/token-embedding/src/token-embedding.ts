import {
  checkedIds,
  embeddingLookup,
  GPT2_INIT,
  initialTable,
  stopGradient,
  type TableInit,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type TokenIds,
  tableFromValues,
  tf,
  type Variable,
} from '@embedlab/runtime';

export interface TokenEmbeddingConfig {
  vocabSize: number;
  dim: number;
  /** Initial values. Default N(0, 0.02²) as GPT-2 and nanoGPT. */
  init?: TableInit;
  /** Output multiplier: none (default), `'sqrt-dim'` (√dim, "Attention Is All You Need" §3.4), or a number. */
  scale?: 'none' | 'sqrt-dim' | number;
  /** An id whose row starts at zero and never receives gradient (PyTorch's `padding_idx`). */
  paddingId?: number;
  /** Seed for random initialisation. */
  seed?: number;
  /** Variable name (must be unique among live variables). Default: tfjs picks a unique one. */
  name?: string;
  trainable?: boolean;
}

export type Metric = 'cosine' | 'dot' | 'euclidean';

export interface Neighbour {
  id: number;
  /** Cosine similarity or dot product (higher is nearer), or euclidean distance (lower is nearer). */
  score: number;
}

export interface Projection2d {
  ids: number[];
  /** One `[x, y]` per id: coordinates on the first two principal components. */
  points: [number, number][];
  /** Share of the total variance along each component. */
  explainedVariance: [number, number];
}

function checkSize(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`TokenEmbedding: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** A trainable `[vocabSize, dim]` lookup table: ids `[batch, seq]` in, vectors `[batch, seq, dim]` out. */
export class TokenEmbedding {
  readonly vocabSize: number;
  readonly dim: number;
  /** The multiplier applied to looked-up rows (1 when unscaled). */
  readonly scale: number;
  readonly paddingId: number | undefined;
  readonly weight: Variable<tf.Rank.R2>;

  constructor(config: TokenEmbeddingConfig) {
    this.vocabSize = checkSize('vocabSize', config.vocabSize);
    this.dim = checkSize('dim', config.dim);
    const { scale = 'none', paddingId, init = GPT2_INIT, seed, name, trainable = true } = config;
    if (scale === 'none') this.scale = 1;
    else if (scale === 'sqrt-dim') this.scale = Math.sqrt(this.dim);
    else if (typeof scale === 'number' && Number.isFinite(scale) && scale !== 0) this.scale = scale;
    else throw new RangeError(`TokenEmbedding: scale must be 'none', 'sqrt-dim' or a finite non-zero number, got ${JSON.stringify(scale)}`);
    if (paddingId !== undefined && (!Number.isInteger(paddingId) || paddingId < 0 || paddingId >= this.vocabSize)) {
      throw new RangeError(`TokenEmbedding: paddingId must be an id in [0, ${this.vocabSize}), got ${paddingId}`);
    }
    this.paddingId = paddingId;
    const initial = tf.tidy(() => {
      const table = initialTable('TokenEmbedding', this.vocabSize, this.dim, init, seed);
      return paddingId === undefined ? table : this.zeroPaddingRow(table);
    });
    this.weight = tf.variable(initial, trainable, name) as Variable<tf.Rank.R2>;
    initial.dispose();
  }

  private zeroPaddingRow(table: Tensor): Tensor {
    const isPadding = tf.reshape(tf.cast(tf.oneHot(tf.tensor1d([this.paddingId!], 'int32'), this.vocabSize), 'bool'), [this.vocabSize, 1]);
    return tf.where(tf.broadcastTo(isPadding, table.shape), tf.zerosLike(table), table);
  }

  get parameterCount(): number {
    return this.vocabSize * this.dim;
  }

  /** Looks up (and scales) the rows of `ids`; the gradient reaches only the rows used. */
  apply(ids: TokenIds): Tensor {
    const idTensor = checkedIds('TokenEmbedding.apply', ids, this.vocabSize);
    const out = tf.tidy(() => {
      let rows = embeddingLookup(this.weight, idTensor);
      if (this.paddingId !== undefined) {
        const isPadding = tf.expandDims(tf.equal(idTensor, this.paddingId), -1);
        rows = tf.where(tf.broadcastTo(isPadding, rows.shape), stopGradient(rows), rows);
      }
      return this.scale === 1 ? rows : tf.mul(rows, this.scale);
    });
    if (idTensor !== ids) idTensor.dispose();
    return out;
  }

  /** A copy of the table. */
  getWeights(): Tensor2D {
    return tf.clone(this.weight) as Tensor2D;
  }

  /** Replaces the table (checked against `[vocabSize, dim]`; nothing changes on error). */
  setWeights(values: Tensor | number[][] | Float32Array | number[]): void {
    const table = tableFromValues('TokenEmbedding.setWeights', this.vocabSize, this.dim, values);
    this.weight.assign(table as Tensor2D);
    table.dispose();
  }

  dispose(): void {
    this.weight.dispose();
  }

  private queryVector(idOrVector: number | ArrayLike<number> | Tensor): Tensor1D {
    if (typeof idOrVector === 'number') {
      const id = checkedIds('TokenEmbedding.nearest', [idOrVector], this.vocabSize);
      return tf.tidy(() => tf.reshape(tf.gather(this.weight, id), [this.dim]) as Tensor1D);
    }
    const vector = idOrVector instanceof tf.Tensor ? idOrVector : tf.tensor1d(Array.from(idOrVector));
    if (vector.size !== this.dim) throw new Error(`TokenEmbedding.nearest: the query vector must have ${this.dim} values, got ${vector.size}`);
    return tf.reshape(vector, [this.dim]) as Tensor1D;
  }

  /**
   * The `k` ids nearest to an id's row (excluding that id) or to a vector, by cosine similarity
   * (default), dot product or euclidean distance, nearest first.
   */
  nearest(idOrVector: number | ArrayLike<number> | Tensor, k = 5, metric: Metric = 'cosine', exclude: number[] = []): Neighbour[] {
    if (!['cosine', 'dot', 'euclidean'].includes(metric))
      throw new Error(`TokenEmbedding.nearest: metric must be cosine, dot or euclidean, got ${JSON.stringify(metric)}`);
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`TokenEmbedding.nearest: k must be a positive integer, got ${k}`);
    const skip = new Set(typeof idOrVector === 'number' ? [idOrVector, ...exclude] : exclude);
    const wanted = Math.min(this.vocabSize, k + skip.size);
    const { values, indices } = tf.tidy(() => {
      const query = this.queryVector(idOrVector);
      let scores: Tensor;
      if (metric === 'euclidean') {
        // -|w - q|² as a score, so top-k finds the smallest distances.
        scores = tf.neg(tf.sum(tf.square(tf.sub(this.weight, query)), 1));
      } else {
        scores = tf.reshape(tf.matMul(this.weight, tf.reshape(query, [this.dim, 1])), [this.vocabSize]);
        if (metric === 'cosine') scores = tf.div(scores, tf.mul(tf.add(tf.norm(this.weight, 'euclidean', 1), 1e-12), tf.add(tf.norm(query), 1e-12)));
      }
      return tf.topk(scores, wanted);
    });
    const scores = values.dataSync();
    const ids = indices.dataSync();
    tf.dispose([values, indices]);
    const result: Neighbour[] = [];
    for (let i = 0; i < ids.length && result.length < k; i++) {
      if (skip.has(ids[i]!)) continue;
      result.push({ id: ids[i]!, score: metric === 'euclidean' ? Math.sqrt(Math.max(0, -scores[i]!)) : scores[i]! });
    }
    return result;
  }

  /** "a is to b as c is to ?": the ids nearest (cosine) to b - a + c, excluding a, b and c. */
  analogy(a: number, b: number, c: number, k = 5): Neighbour[] {
    const ids = checkedIds('TokenEmbedding.analogy', [a, b, c], this.vocabSize);
    const target = tf.tidy(() => {
      const [ra, rb, rc] = tf.unstack(tf.gather(this.weight, ids));
      return tf.add(tf.sub(rb!, ra!), rc!);
    });
    ids.dispose();
    try {
      return this.nearest(target, k, 'cosine', [a, b, c]);
    } finally {
      target.dispose();
    }
  }

  /**
   * Coordinates of rows (all, or `ids`) on their first two principal components, for a plot.
   * PCA by orthogonal iteration on the covariance matrix, all on tensors.
   */
  project2d(ids?: number[], options: { method?: 'pca'; iterations?: number } = {}): Projection2d {
    const { method = 'pca', iterations = 100 } = options;
    if (method !== 'pca') throw new Error(`TokenEmbedding.project2d: method must be 'pca', got ${JSON.stringify(method)}`);
    const chosen = ids ?? Array.from({ length: this.vocabSize }, (_, i) => i);
    if (chosen.length < 2) throw new Error(`TokenEmbedding.project2d: needs at least 2 ids, got ${chosen.length}`);
    const idTensor = checkedIds('TokenEmbedding.project2d', chosen, this.vocabSize);
    const [points, variance] = tf.tidy(() => {
      const rows = tf.gather(this.weight, idTensor);
      const centred = tf.sub(rows, tf.mean(rows, 0));
      const covariance = tf.div(tf.matMul(centred, centred, true, false), chosen.length - 1) as Tensor2D;
      // Deterministic start; Gram-Schmidt keeps the two columns orthonormal.
      let basis = tf.tensor2d(
        Array.from({ length: this.dim * 2 }, (_, i) => Math.sin(i + 1)),
        [this.dim, 2],
      );
      for (let i = 0; i < iterations; i++) basis = orthonormalise(tf.matMul(covariance, basis));
      const eigenvalues = tf.sum(tf.mul(basis, tf.matMul(covariance, basis)), 0);
      const share = tf.div(eigenvalues, tf.sum(tf.linalg.bandPart(covariance, 0, 0)));
      // Sign convention: each component's largest loading is positive, so plots are stable.
      const largest = tf.gather(basis, tf.argMax(tf.abs(basis), 0));
      const signs = tf.sign(tf.sum(tf.mul(largest, tf.eye(2)), 0));
      return [tf.matMul(centred, tf.mul(basis, signs)), share];
    });
    idTensor.dispose();
    const coords = points.arraySync() as [number, number][];
    const explained = Array.from(variance.dataSync()) as [number, number];
    tf.dispose([points, variance]);
    return { ids: chosen, points: coords, explainedVariance: explained };
  }
}

function orthonormalise(basis: Tensor): Tensor2D {
  const [first, second] = tf.split(basis, 2, 1);
  const u = tf.div(first!, tf.norm(first!));
  const v = tf.sub(second!, tf.mul(u, tf.sum(tf.mul(u, second!))));
  return tf.concat([u, tf.div(v, tf.norm(v))], 1) as Tensor2D;
}

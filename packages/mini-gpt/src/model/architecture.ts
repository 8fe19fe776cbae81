// The architecture, stated once: every parameter of a GPT (nanoGPT's state_dict name, shape in
// this package's layout, role), a block's layers in nanoGPT's order with their widths and init,
// LayerNorm's ε and the MLP's width. The blocks are built from it; parameterShapes, checkpoints,
// the decoder and the Hugging Face import and export read it.
import type { GPTConfig } from './config.js';

/** LayerNorm's ε: PyTorch's default, and GPT-2's `layer_norm_epsilon`. */
export const LAYER_NORM_EPSILON = 1e-5;

/** The MLP's hidden width, in multiples of nEmbd (GPT-2's `n_inner` = 4·n_embd). */
export const MLP_RATIO = 4;

/** GPT-2's init: weights N(0, 0.02²); a residual projection's std is further divided by √(2·nLayer). */
export const INIT_STD = 0.02;

/** A Linear layer of a block, its widths in multiples of nEmbd; `residual` projections write into the residual stream. */
export interface LinearLayer {
  kind: 'linear';
  inWidth: number;
  outWidth: number;
  residual: boolean;
}

/** A block's layers, in nanoGPT's order: x = x + attn.c_proj(attention(attn.c_attn(ln_1(x)))); x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))). */
export const BLOCK_LAYERS = {
  ln_1: { kind: 'norm' },
  'attn.c_attn': { kind: 'linear', inWidth: 1, outWidth: 3, residual: false },
  'attn.c_proj': { kind: 'linear', inWidth: 1, outWidth: 1, residual: true },
  ln_2: { kind: 'norm' },
  'mlp.c_fc': { kind: 'linear', inWidth: 1, outWidth: MLP_RATIO, residual: false },
  'mlp.c_proj': { kind: 'linear', inWidth: MLP_RATIO, outWidth: 1, residual: true },
} as const satisfies Record<string, { kind: 'norm' } | LinearLayer>;

export type BlockLayerName = keyof typeof BLOCK_LAYERS;
export type LinearLayerName = { [K in BlockLayerName]: (typeof BLOCK_LAYERS)[K] extends LinearLayer ? K : never }[BlockLayerName];

/** What a parameter is to the model: what freezing, weight decay and exports ask about. */
export type ParameterRole = 'token-embedding' | 'position-embedding' | 'norm' | 'linear' | 'head';

export interface ParameterSpec {
  /** nanoGPT's state_dict name. */
  name: string;
  /** This package's layout: Linear weights `[in, out]` (PyTorch's transposed). */
  shape: number[];
  role: ParameterRole;
  /** The block it belongs to, if any. */
  layer?: number;
  /** Whether it is a bias (never weight-decayed in nanoGPT's optimizer groups). */
  bias: boolean;
}

/** `[in, out]` of a block's Linear layer at width `nEmbd`. */
export function linearShape(name: LinearLayerName, nEmbd: number): [number, number] {
  const layer = BLOCK_LAYERS[name];
  return [layer.inWidth * nEmbd, layer.outWidth * nEmbd];
}

/** Every parameter a config gives, in `stateDict()` order (the order they are initialised in), computed without allocating. */
export function parameterSpecs(config: GPTConfig): ParameterSpec[] {
  const { vocabSize, blockSize, nLayer, nEmbd: C, bias, position, tieWeights } = config;
  const specs: ParameterSpec[] = [{ name: 'transformer.wte.weight', shape: [vocabSize, C], role: 'token-embedding', bias: false }];
  if (position === 'learned') specs.push({ name: 'transformer.wpe.weight', shape: [blockSize, C], role: 'position-embedding', bias: false });
  const add = (prefix: string, weight: number[], role: 'norm' | 'linear', layer: number | undefined) => {
    const where = layer === undefined ? {} : { layer };
    specs.push({ name: `${prefix}.weight`, shape: weight, role, bias: false, ...where });
    if (bias) specs.push({ name: `${prefix}.bias`, shape: [weight.at(-1)!], role, bias: true, ...where });
  };
  for (let i = 0; i < nLayer; i++) {
    for (const [name, layer] of Object.entries(BLOCK_LAYERS) as [BlockLayerName, (typeof BLOCK_LAYERS)[BlockLayerName]][]) {
      const prefix = `transformer.h.${i}.${name}`;
      if (layer.kind === 'norm') add(prefix, [C], 'norm', i);
      else add(prefix, linearShape(name as LinearLayerName, C), 'linear', i);
    }
  }
  add('transformer.ln_f', [C], 'norm', undefined);
  if (!tieWeights) specs.push({ name: 'lm_head.weight', shape: [vocabSize, C], role: 'head', bias: false });
  return specs;
}

/** How many numbers `parameterSpecs(config)` holds, by formula from the table (a config of a million layers is counted at once). */
export function parameterCount(config: GPTConfig): number {
  const { vocabSize, blockSize, nLayer, nEmbd: C, bias, position, tieWeights } = config;
  const biases = bias ? 1 : 0;
  const norm = C * (1 + biases);
  let block = 0;
  for (const [name, layer] of Object.entries(BLOCK_LAYERS) as [BlockLayerName, (typeof BLOCK_LAYERS)[BlockLayerName]][]) {
    if (layer.kind === 'norm') block += norm;
    else {
      const [inFeatures, outFeatures] = linearShape(name as LinearLayerName, C);
      block += inFeatures * outFeatures + biases * outFeatures;
    }
  }
  return vocabSize * C + (position === 'learned' ? blockSize * C : 0) + nLayer * block + norm + (tieWeights ? 0 : vocabSize * C);
}

/** The size of the largest tensor `parameterSpecs(config)` lists, by formula. */
export function largestParameter(config: GPTConfig): number {
  const { vocabSize, blockSize, nEmbd: C, position } = config;
  const linears = (Object.keys(BLOCK_LAYERS) as BlockLayerName[])
    .filter((name): name is LinearLayerName => BLOCK_LAYERS[name].kind === 'linear')
    .map((name) => linearShape(name, C).reduce((a, b) => a * b));
  return Math.max(vocabSize * C, position === 'learned' ? blockSize * C : 0, ...(config.nLayer > 0 ? linears : []));
}

/** How many tensors `parameterSpecs(config)` lists, by formula: checked before listing them. */
export function parameterTensorCount(config: GPTConfig): number {
  const perLayer = Object.keys(BLOCK_LAYERS).length * (config.bias ? 2 : 1);
  return 1 + (config.position === 'learned' ? 1 : 0) + config.nLayer * perLayer + (config.bias ? 2 : 1) + (config.tieWeights ? 0 : 1);
}

const LINEAR_WEIGHT = new RegExp(
  `^transformer\\.h\\.\\d+\\.(${Object.entries(BLOCK_LAYERS)
    .filter(([, layer]) => layer.kind === 'linear')
    .map(([name]) => name.replace('.', '\\.'))
    .join('|')})\\.weight$`,
);

/** Whether a state_dict name is a block's Linear weight, which PyTorch stores `[out, in]` and this package `[in, out]`. */
export function isLinearWeight(name: string): boolean {
  return LINEAR_WEIGHT.test(name);
}

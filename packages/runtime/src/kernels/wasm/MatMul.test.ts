import { expectClose } from '@embedlab/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../backend.js';
import { MatMul, type MatMulAttrs } from '../../kernel-names.js';
import { assertNoTensorLeaks } from '../../memory.js';
import { tf } from '../../tf.js';
import { gradientCheck } from '../../testing.js';
import { gemmRelaxedWasm, gemmWasm } from '../../generated/gemm-wasm.js';
import type { GemmModule } from './gemm-module.js';
import { detectKernelBuild, forceKernelBuild, type KernelBuild } from './kernel-build.js';
import { moduleOnMemory } from './module-on-memory.js';

// The product kernel against tfjs's own matMul (XNNPACK on wasm; the reference numbers come from
// tfjs, not from this kernel), in both builds, at sizes that reach every path of assembly/gemm.ts:
// partial tiles (m not a multiple of 6, n not a multiple of 8), several K blocks (k > 256), several
// M blocks (m > 120) and several N blocks (n > 4096), each operand stored transposed or not.

function run(a: tf.Tensor, b: tf.Tensor, attrs: MatMulAttrs, bias?: tf.Tensor): tf.Tensor[] {
  const out = tf.engine().runKernel(MatMul, { a, b, bias: bias ?? tf.zeros([0]) }, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}

const exactGelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
const tanhGelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));

const builds: KernelBuild[] = detectKernelBuild() === 'relaxed-simd' ? ['relaxed-simd', 'simd'] : ['simd'];

describe.each(builds)('EmbedlabMatMul on wasm, %s build', (build) => {
  beforeAll(async () => {
    await ready({ backend: 'wasm' });
    forceKernelBuild(build);
  });
  afterAll(() => forceKernelBuild(undefined));

  it.each([
    [1, 1, 1],
    [5, 3, 7],
    [6, 8, 8],
    [13, 37, 19],
    [127, 300, 65],
    [250, 520, 33],
    [7, 9, 4100],
  ])('matches tf.matMul for [%i, %i] x [%i, ...] with every combination of transposes', (m, k, n) => {
    tf.tidy(() => {
      const a = tf.randomNormal([m, k], 0, 1, 'float32', m);
      const b = tf.randomNormal([k, n], 0, 1, 'float32', n);
      const reference = tf.matMul(a, b);
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const [ours] = run(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b, { transposeA, transposeB, gelu: 'off' });
          expectClose(ours!, reference, { label: `transposeA ${transposeA}, transposeB ${transposeB}`, tolerance: 1e-4 });
        }
      }
    });
  });

  it('adds the bias and applies GELU (exact and tanh) in the store, returning the pre-activation too', () => {
    tf.tidy(() => {
      const [m, k, n] = [29, 270, 21];
      const a = tf.randomNormal([m, k], 0, 0.2, 'float32', 1);
      const b = tf.randomNormal([k, n], 0, 0.2, 'float32', 2);
      const bias = tf.randomNormal([n], 0, 1, 'float32', 3);
      const z = tf.add(tf.matMul(a, b), bias);
      expectClose(run(a, b, { transposeA: false, transposeB: false, gelu: 'off' }, bias)[0]!, z, { label: 'bias', tolerance: 1e-4 });
      const [exact, preExact] = run(a, b, { transposeA: false, transposeB: false, gelu: 'exact' }, bias);
      expectClose(exact!, exactGelu(z), { label: 'exact GELU', tolerance: 1e-4 });
      expectClose(preExact!, z, { label: 'pre-activation', tolerance: 1e-4 });
      expectClose(run(a, b, { transposeA: false, transposeB: false, gelu: 'tanh' }, bias)[0]!, tanhGelu(z), { label: 'tanh GELU', tolerance: 1e-4 });
    });
  });

  it('writes the bias alone for an empty sum (k = 0)', () => {
    tf.tidy(() => {
      const [out] = run(tf.zeros([3, 0]), tf.zeros([0, 2]), { transposeA: false, transposeB: false, gelu: 'off' }, tf.tensor1d([1, -2]));
      expect(Array.from(out!.dataSync())).toEqual([1, -2, 1, -2, 1, -2]);
    });
  });
});

describe.each(['wasm', 'cpu'] as const)('EmbedlabMatMul gradients on %s', (backend) => {
  beforeAll(async () => {
    await ready({ backend });
  });

  it.each([
    ['off', (z: tf.Tensor) => z],
    ['exact', exactGelu],
    ['tanh', tanhGelu],
  ] as const)('match tfjs autodiff of matMul + bias + GELU (%s) for every combination of transposes', (gelu, activation) => {
    tf.tidy(() => {
      const [m, k, n] = [7, 11, 9];
      const a = tf.randomNormal([m, k], 0, 0.5, 'float32', 4);
      const b = tf.randomNormal([k, n], 0, 0.5, 'float32', 5);
      const bias = tf.randomNormal([n], 0, 0.5, 'float32', 6);
      const upstream = tf.randomNormal([m, n], 0, 1, 'float32', 7);
      const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(activation(tf.add(tf.matMul(x, y), c)), upstream)))([a, b, bias]);
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const ours = tf.grads((x: tf.Tensor, y: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(run(x, y, { transposeA, transposeB, gelu }, c)[0]!, upstream)))([
            transposeA ? tf.transpose(a) : a,
            transposeB ? tf.transpose(b) : b,
            bias,
          ]);
          const label = `${gelu}, transposeA ${transposeA}, transposeB ${transposeB}`;
          expectClose(transposeA ? tf.transpose(ours[0]!) : ours[0]!, theirs[0]!, { label: `${label}: da`, tolerance: 1e-4 });
          expectClose(transposeB ? tf.transpose(ours[1]!) : ours[1]!, theirs[1]!, { label: `${label}: db`, tolerance: 1e-4 });
          expectClose(ours[2]!, theirs[2]!, { label: `${label}: dbias`, tolerance: 1e-4 });
        }
      }
    });
  });

  it('matches finite differences and leaks no tensors', async () => {
    const a = tf.randomNormal([5, 4], 0, 1, 'float32', 8);
    const b = tf.randomNormal([4, 3], 0, 1, 'float32', 9);
    const bias = tf.randomNormal([3], 0, 1, 'float32', 10);
    const loss = (x: tf.Tensor, y: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.square(run(x, y, { transposeA: false, transposeB: false, gelu: 'exact' }, c)[0]!)) as tf.Scalar;
    expect(gradientCheck(loss, [a, b, bias]).maxError).toBeLessThan(1e-2);
    await assertNoTensorLeaks(() => {
      tf.dispose(tf.grads(loss)([a, b, bias]));
    });
    const names = (await tf.profile(() => tf.tidy(() => run(a, b, { transposeA: false, transposeB: true, gelu: 'off' }, bias)[0]!))).kernelNames;
    expect(names).toContain(MatMul);
    tf.dispose([a, b, bias]);
  });
});

// The modules themselves, on memories of each kind (Node's backend runs on an ordinary memory;
// browsers with threads run tfjs's threaded build, whose memory is shared and needs the `shared`
// build), in both builds: a product checked by hand, and nothing written outside the output and
// the scratch the module asked for (a partial tile once spilled past it).
describe.each([
  ['plain', () => new WebAssembly.Memory({ initial: 2 })],
  ['shared', () => new WebAssembly.Memory({ initial: 2, maximum: 4, shared: true })],
] as const)('the gemm modules on a %s memory', (_, makeMemory) => {
  it.each(builds)('%s: multiply in place and stay inside the output and the scratch', (build) => {
    const memory = makeMemory();
    const gemm = moduleOnMemory<GemmModule>(memory, build === 'relaxed-simd' ? gemmRelaxedWasm : gemmWasm);
    const floats = new Float32Array(memory.buffer);
    floats.fill(7);
    // A [2, 3]ᵀ stored [3, 2], B [3, 2]; C = Aᵀ·B + bias: one partial tile (2 rows, 2 columns).
    const [a, b, bias, c, scratch] = [16, 64, 96, 128, 256];
    floats.set([1, 2, 3, 4, 5, 6], a);
    floats.set([1, 0, 0, 1, 1, 1], b);
    floats.set([10, 20], bias);
    const scratchFloats = gemm.scratchFloats(2, 3, 2);
    gemm.gemm(a * 4, b * 4, c * 4, c * 4, bias * 4, scratch * 4, 2, 3, 2, 1, 0, 1, 0);
    // Aᵀ = [[1, 3, 5], [2, 4, 6]], B = [[1, 0], [0, 1], [1, 1]] -> [[6, 8], [8, 10]], + bias.
    expect(Array.from(floats.subarray(c, c + 4))).toEqual([16, 28, 18, 30]);
    expect(floats.subarray(c + 4, scratch).every((x) => x === 7)).toBe(true);
    expect(floats.subarray(scratch + scratchFloats, scratch + scratchFloats + 1024).every((x) => x === 7)).toBe(true);
  });
});

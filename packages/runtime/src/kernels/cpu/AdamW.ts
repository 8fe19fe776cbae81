import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { AdamW, type AdamWAttrs, GlobalNorm } from '../../kernel-names.js';
import { adamwScalars } from '../adamw-scalars.js';
import type { CpuBackend } from './cpu-backend.js';

// The cpu backend's fused optimizer kernels: assembly/adamw.ts's arithmetic in JavaScript, each
// step rounded to float32 (Math.fround) as the wasm kernel and tfjs's own kernels round it.

function globalNormKernel({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo {
  const cpu = backend as unknown as CpuBackend;
  let total = 0;
  for (const t of Object.values(inputs) as TensorInfo[]) {
    const values = cpu.readSync(t.dataId);
    for (let i = 0; i < values.length; i++) total += values[i]! * values[i]!;
  }
  return cpu.makeTensorInfo([], 'float32', Float32Array.of(Math.sqrt(total)));
}

function adamwKernel({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo[] {
  const cpu = backend as unknown as CpuBackend;
  const a = attrs as unknown as AdamWAttrs;
  const k = adamwScalars(a);
  const f = Math.fround;
  const named = inputs as Record<string, TensorInfo>;
  const outputs: TensorInfo[] = [];
  for (let i = 0; i < a.count; i++) {
    const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((key) => cpu.readSync(named[`${key}${i}`]!.dataId));
    const decay = k.decayFactor(a.decay[i]!);
    const [pOut, mOut, vOut] = [new Float32Array(p!.length), new Float32Array(p!.length), new Float32Array(p!.length)];
    for (let j = 0; j < p!.length; j++) {
      const grad = f(g![j]! * k.scale);
      const m1 = f(f(m![j]! * k.beta1) + f(grad * k.oneMinusBeta1));
      const v1 = f(f(v![j]! * k.beta2) + f(f(grad * grad) * k.oneMinusBeta2));
      const update = f(f(m1 / k.correction1) / f(f(Math.sqrt(f(v1 / k.correction2))) + k.epsilon));
      pOut[j] = f(f(p![j]! * decay) - f(update * k.learningRate));
      mOut[j] = m1;
      vOut[j] = v1;
    }
    const shape = named[`p${i}`]!.shape;
    outputs.push(cpu.makeTensorInfo(shape, 'float32', pOut), cpu.makeTensorInfo(shape, 'float32', mOut), cpu.makeTensorInfo(shape, 'float32', vOut));
  }
  return outputs;
}

export const adamwCpuConfigs: KernelConfig[] = [
  { kernelName: GlobalNorm, backendName: 'cpu', kernelFunc: globalNormKernel as unknown as KernelFunc },
  { kernelName: AdamW, backendName: 'cpu', kernelFunc: adamwKernel as unknown as KernelFunc },
];

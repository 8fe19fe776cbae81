/** `[batch, seq, 3·C]` with `heads` heads: the sizes both backends' attention kernels loop over. */
export function causalAttentionShape(qkvShape: number[], heads: number): { batch: number; seq: number; heads: number; headDim: number; channels: number } {
  const [batch, seq, threeC] = qkvShape as [number, number, number];
  const channels = threeC / 3;
  return { batch, seq, heads, headDim: channels / heads, channels };
}

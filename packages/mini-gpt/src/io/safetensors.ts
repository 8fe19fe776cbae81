/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }`,
 * then the raw little-endian tensor bytes. Written here because no maintained npm package
 * writes it (`@huggingface/hub` only reads headers of remote files); every offset and size is
 * checked on read, so a truncated or foreign file is refused with the reason.
 */

export type Dtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I32' | 'I64';

export interface NamedTensor {
  shape: number[];
  /** Values as float32 (F16, BF16 and F64 are converted on read). */
  data: Float32Array;
  /** The dtype stored in the file (read only; files are written as F32). */
  dtype?: Dtype;
}

export interface SafetensorsContents {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8 };
export const MAX_HEADER = 100 * 1024 * 1024;

/** Serialises float32 tensors (in the order given) and string metadata. */
export function writeSafetensors(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`writeSafetensors: ${name} has shape [${shape}] (${size} values) but ${data.length} values`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // the data starts 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const { data } of tensors.values()) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function toFloat32(dtype: Dtype, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / BYTES[dtype];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = view.getFloat32(4 * i, true);
        break;
      case 'F64':
        out[i] = view.getFloat64(8 * i, true);
        break;
      case 'F16':
        out[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'BF16':
        out[i] = new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0]!;
        break;
      case 'I32':
        out[i] = view.getInt32(4 * i, true);
        break;
      case 'I64':
        out[i] = Number(view.getBigInt64(8 * i, true));
        break;
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

/** One header entry, checked field by field against the data section's length. */
function checkEntry(source: string, name: string, entry: unknown, dataLength: number): Entry {
  if (!isObject(entry)) throw new Error(`${source}: tensor ${name} must be an object { dtype, shape, data_offsets }, got ${JSON.stringify(entry)}`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string' || !(dtype in BYTES))
    throw new Error(`${source}: tensor ${name} has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(BYTES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new Error(`${source}: tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new Error(`${source}: tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)} (two non-negative integers, begin <= end)`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) throw new Error(`${source}: tensor ${name} ends at byte ${end} of a data section of ${dataLength} bytes (truncated file?)`);
  // Sizes are compared by division so that a huge shape cannot overflow the product.
  const bytesPer = BYTES[dtype as Dtype];
  let elements = (shape as number[]).includes(0) ? 0 : 1;
  for (const d of shape as number[]) {
    if (elements * bytesPer > end - begin) break;
    elements *= d;
  }
  if (elements * bytesPer !== end - begin) throw new Error(`${source}: tensor ${name} is [${shape}] ${dtype} but its data spans ${end - begin} bytes`);
  return { name, dtype: dtype as Dtype, shape: shape as number[], begin, end };
}

/**
 * Parses a safetensors file, refusing anything inconsistent with a specific reason: a header
 * that is not a JSON object, entries without a dtype, shape or offsets, sizes that disagree with
 * the offsets, and — as the format requires — tensors that overlap or leave holes in the data.
 */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors file'): SafetensorsContents {
  if (bytes.byteLength < 8) throw new Error(`${source}: not a safetensors file (${bytes.byteLength} bytes is too short for a header)`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.byteLength) {
    throw new Error(`${source}: not a safetensors file, or truncated (its header claims ${headerLength} bytes, the file has ${bytes.byteLength})`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new Error(`${source}: not a safetensors file (its header is not JSON)`);
  }
  if (!isObject(header)) throw new Error(`${source}: not a safetensors file (its header must be a JSON object, got ${JSON.stringify(header)?.slice(0, 40)})`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const rawMetadata = '__metadata__' in header ? header.__metadata__ : {};
  if (!isObject(rawMetadata) || !Object.values(rawMetadata).every((v) => typeof v === 'string')) {
    throw new Error(`${source}: __metadata__ must be an object of strings, got ${JSON.stringify(rawMetadata)?.slice(0, 80)}`);
  }
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, entry]) => checkEntry(source, name, entry, dataLength));
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const entry of byOffset) {
    if (entry.begin < covered)
      throw new Error(`${source}: tensor ${entry.name} (bytes ${entry.begin}..${entry.end}) overlaps the tensor before it (up to byte ${covered})`);
    if (entry.begin > covered) throw new Error(`${source}: the data section has a hole at bytes ${covered}..${entry.begin} before tensor ${entry.name}`);
    covered = entry.end;
  }
  if (covered !== dataLength) throw new Error(`${source}: the data section has ${dataLength - covered} bytes after the last tensor that no tensor owns`);
  const tensors = new Map<string, NamedTensor>();
  for (const { name, dtype, shape, begin, end } of entries)
    tensors.set(name, { shape, dtype, data: toFloat32(dtype, bytes.subarray(dataStart + begin, dataStart + end)) });
  return { tensors, metadata: rawMetadata as Record<string, string> };
}

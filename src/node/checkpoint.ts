/**
 * Safetensors checkpoint files in Node: an atomic, streaming writer and a reader that reads the header
 * first and then each tensor's bytes, so neither holds a second copy of the whole file in memory (and
 * neither is bound by Node's 2 GiB limit on one `readFile`).
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import type { Tensor } from '../tensor/index.js';
import { decodeTensor, encodeTensorData, planSafetensors, type Deserialized, type SerializeOptions } from '../nn/safetensors.js';
import { parseHeader, readHeaderLength } from '../nn/safetensors-header.js';

/** Node's largest single read. */
const IO_CHUNK = 1 << 30;

async function readExactly(fh: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; ) {
    const { bytesRead } = await fh.read(out, at, Math.min(length - at, IO_CHUNK), position + at);
    if (bytesRead === 0) {
      throw new Error(`safetensors: ${path} ended at byte ${position + at} while reading ${length} bytes at ${position} (did it change?)`);
    }
    at += bytesRead;
  }
  return out;
}

/**
 * Writes `tensors` to a safetensors file at `path`, with the same bytes as `serialize`
 * (`being-ts/nn`) would give.
 * Atomic: the data goes to a temporary file in the same directory, is flushed to disk (fsync), and only
 * then renamed over `path`, so a crash leaves either the old file or the complete new one, never a torn
 * one. Works on every backend (the tensor data is awaited one tensor at a time).
 *
 * @example
 * await saveSafetensors('policy.safetensors', model.stateDict(), { metadata: { step: '1000' } });
 */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, opts: SerializeOptions = {}): Promise<void> {
  const plan = planSafetensors(tensors, opts);
  await writeFileAtomic(path, (async function* () {
    yield plan.header;
    for (const p of plan.tensors) yield encodeTensorData(p, await p.tensor.data());
  })());
}

/**
 * Reads a safetensors file into tensors on the current backend, with the checks of `deserialize`
 * (`being-ts/nn`; every malformed file is refused with an error starting `safetensors:`).
 *
 * @example
 * const { tensors, metadata } = await loadSafetensors('policy.safetensors');
 * model.loadStateDict(tensors);
 */
export async function loadSafetensors(path: string): Promise<Deserialized> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const n = readHeaderLength(await readExactly(fh, 0, Math.min(8, size), path), size);
    const header = parseHeader(await readExactly(fh, 8, n, path), size);
    const out: Deserialized = { tensors: {}, metadata: header.metadata, dtypes: {} };
    for (const e of header.entries) {
      const t = decodeTensor(e, await readExactly(fh, header.dataStart + e.begin, e.end - e.begin, path));
      Object.defineProperty(out.tensors, e.name, { value: t, enumerable: true, writable: true, configurable: true });
      Object.defineProperty(out.dtypes, e.name, { value: e.dtype, enumerable: true, writable: true, configurable: true });
    }
    return out;
  } finally {
    await fh.close();
  }
}


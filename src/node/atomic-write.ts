/**
 * Atomic file writes: the bytes go to a temporary file beside the target, are flushed to disk, and the
 * temporary file is renamed over the target, so a reader (or a crash) sees the old file or the new one,
 * never a part of it. Checkpoints, datasets and reports are all written this way.
 * @module
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Node's largest single write. */
const IO_CHUNK = 1 << 30;

/** What {@link writeFileAtomic} writes: bytes, text (UTF-8), or pieces of bytes in order. */
export type AtomicWriteData = Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, at, Math.min(bytes.length - at, IO_CHUNK));
    at += bytesWritten;
  }
}

/**
 * Writes `data` to `path` atomically (temporary file, fsync, rename; then the directory is synced so the
 * rename itself is durable, where the platform allows). On failure the temporary file is removed and the
 * old file, if any, is left as it was.
 *
 * @example
 * await writeFileAtomic('results.json', JSON.stringify(results));
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle | undefined = await open(tmp, 'wx');
  try {
    if (typeof data === 'string') await writeAll(fh, new TextEncoder().encode(data));
    else if (data instanceof Uint8Array) await writeAll(fh, data);
    else for await (const piece of data) await writeAll(fh, piece);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // Directories cannot be opened for fsync on Windows; skip it there.
  try {
    const dir = await open(dirname(path), 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    /* best effort */
  }
}

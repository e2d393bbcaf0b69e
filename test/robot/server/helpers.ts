// Shared helpers for the policy-server tests: a JSON-comparable form of decoded values, a raw WebSocket
// client that records every frame, a gate for holding a policy call, and bounded waiting.
import { WebSocket } from 'ws';
import { NdArray, NumpyScalar } from '../../../src/robot/server/ndarray.js';

export const hex = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** A JSON-comparable form: arrays by dtype, shape and element bytes (so NaN and -0 compare exactly). */
export function normalize(v: unknown): unknown {
  if (v instanceof NdArray) return { $ndarray: { dtype: v.dtype, shape: [...v.shape], hex: hex(v.data) } };
  if (v instanceof NumpyScalar) return { $npgeneric: { dtype: v.dtype, value: typeof v.value === 'bigint' ? `${v.value}n` : v.value } };
  if (v instanceof Uint8Array) return { $bytes: hex(v) };
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

/** Rejects after `ms` unless `p` settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `done` every 5 ms until true; throws after `ms`. */
export async function waitFor(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise to be opened from outside. */
export function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** One frame as a raw client saw it. */
export interface RawFrame {
  binary: boolean;
  bytes: Buffer;
  text: string;
}

/** A `ws` client that queues every frame it receives, for byte-level checks. */
export class RawClient {
  readonly ws: WebSocket;
  private readonly frames: RawFrame[] = [];
  private readonly waiters: ((f: RawFrame) => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = { binary: isBinary, bytes: data, text: isBinary ? '' : data.toString('utf8') };
      const w = this.waiters.shift();
      if (w) w(frame);
      else this.frames.push(frame);
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {}); // observed by whoever awaits it
    this.ws.on('error', () => {}); // errors show up as rejected `opened` or as the close code
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** The next frame (waiting up to `ms`). */
  next(ms = 5000): Promise<RawFrame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return within(new Promise<RawFrame>((r) => this.waiters.push(r)), ms, 'a frame from the server');
  }

  send(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await within(this.closed, 5000, 'the raw client to close');
  }
}

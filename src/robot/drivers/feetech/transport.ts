/**
 * The byte transport a Feetech bus runs over — a serial port in Node (`serialport-transport.ts`), Web
 * Serial in browsers (`web-serial-transport.ts`), or the in-memory link here — and that the servo
 * emulator answers on. A transport moves bytes only: framing is the packet parser's job, so chunks
 * may split or join packets anywhere.
 * @module
 */

/** A duplex byte stream. */
export interface ByteTransport {
  /** Whether the transport is open (writes are accepted). */
  readonly isOpen: boolean;
  /** Sends `bytes`; resolves when they are handed to the line. Rejects when closed. */
  write(bytes: Uint8Array): Promise<void>;
  /** Delivers every chunk that arrives from now on to `listener`; returns the function that unsubscribes. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Closes the transport (idempotent); pending writes may be dropped. */
  close(): Promise<void>;
}

/** Options of {@link createMemoryLink}. */
export interface MemoryLinkOptions {
  /** Splits each write into the chunks the other end receives (default: one chunk per write). */
  readonly split?: (bytes: Uint8Array) => Uint8Array[];
}

/** A listener set shared by the transports here: a listener that throws is reported and skipped. */
export class DataListeners {
  readonly #listeners = new Set<(chunk: Uint8Array) => void>();

  /** Adds `listener`; returns the function that removes it. */
  add(listener: (chunk: Uint8Array) => void, owner: string): () => void {
    if (typeof listener !== 'function') throw new TypeError(`${owner}.onData: listener must be a function, got ${typeof listener}`);
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Delivers `chunk` to every listener. */
  emit(chunk: Uint8Array, owner: string): void {
    for (const l of [...this.#listeners]) {
      try {
        l(chunk);
      } catch (e) {
        console.error(`${owner}: a data listener threw`, e);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}

/** One end of an in-memory link (see {@link createMemoryLink}). */
export class MemoryTransport implements ByteTransport {
  #peer: MemoryTransport | undefined;
  #open = true;
  readonly #listeners = new DataListeners();
  readonly #split: (bytes: Uint8Array) => Uint8Array[];
  /** Bytes written by this end so far. */
  bytesWritten = 0;

  /** An end that splits its writes with `split`; {@link createMemoryLink} pairs two. */
  constructor(split: (bytes: Uint8Array) => Uint8Array[] = (b) => [b]) {
    this.#split = split;
  }

  /** Connects two ends (used by {@link createMemoryLink}). */
  static pair(a: MemoryTransport, b: MemoryTransport): void {
    a.#peer = b;
    b.#peer = a;
  }

  /** Whether this end is open. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Queues `bytes` for the other end (delivered in order, each chunk in its own microtask). */
  async write(bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`MemoryTransport.write: bytes must be a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
    if (!this.#open) throw new Error('MemoryTransport.write: the transport is closed');
    this.bytesWritten += bytes.length;
    const peer = this.#peer;
    if (peer === undefined) return;
    for (const chunk of this.#split(bytes.slice())) queueMicrotask(() => peer.#receive(chunk));
  }

  #receive(chunk: Uint8Array): void {
    if (this.#open && chunk.length > 0) this.#listeners.emit(chunk, 'MemoryTransport');
  }

  /** Subscribes to incoming chunks (chunks arriving with no listener are lost, as on a real line). */
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.#listeners.add(listener, 'MemoryTransport');
  }

  /** Closes both ends. */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#listeners.clear();
    await this.#peer?.close();
  }
}

/**
 * Two connected in-memory transports: what one writes, the other receives (asynchronously, in
 * order). Closing either closes both. For tests and for trying the stack against the emulator.
 *
 * @example
 * const [host, device] = createMemoryLink();
 * const emulator = new FeetechEmulator(device, { ids: [1, 2, 3, 4, 5, 6] });
 * const bus = new FeetechBus(host);
 * await bus.ping(1);
 */
export function createMemoryLink(options: MemoryLinkOptions = {}): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport(options.split);
  const b = new MemoryTransport(options.split);
  MemoryTransport.pair(a, b);
  return [a, b];
}

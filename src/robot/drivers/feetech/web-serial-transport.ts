/**
 * A {@link ByteTransport} over Web Serial (`navigator.serial`, Chromium browsers), for driving an
 * SO-100/SO-101 arm from a web page. Browser APIs only: streams and promises, no Node modules.
 * @module
 */
import { DataListeners, type ByteTransport } from './transport.js';

/** The part of a Web Serial `SerialPort` this transport uses (the DOM type is not in every TypeScript lib). */
export interface WebSerialPortLike {
  /** Opens the port at `baudRate`. */
  open(options: { baudRate: number; bufferSize?: number }): Promise<void>;
  /** Closes the port (its streams must be unlocked). */
  close(): Promise<void>;
  /** Incoming bytes while open. */
  readonly readable: ReadableStream<Uint8Array> | null;
  /** Outgoing bytes while open. */
  readonly writable: WritableStream<Uint8Array> | null;
}

/** A USB vendor/product filter for the port picker. */
export interface WebSerialFilter {
  /** USB vendor id, e.g. 0x1a86 (the CH340/CH343 adapters of most SO-100/SO-101 boards). */
  readonly usbVendorId?: number;
  /** USB product id. */
  readonly usbProductId?: number;
}

/** Options of {@link openWebSerialTransport}. */
export interface WebSerialTransportOptions {
  /** Bit rate (default 1 000 000, the STS3215 factory setting). */
  readonly baudRate?: number;
}

interface SerialApi {
  requestPort(options?: { filters?: readonly WebSerialFilter[] }): Promise<WebSerialPortLike>;
}

/**
 * Asks the user to pick a serial port (must run from a user gesture, e.g. a click). Throws when the
 * browser has no Web Serial (Chromium-based browsers over HTTPS or localhost do).
 */
export async function requestWebSerialPort(filters: readonly WebSerialFilter[] = []): Promise<WebSerialPortLike> {
  const serial = (globalThis as { navigator?: { serial?: SerialApi } }).navigator?.serial;
  if (serial === undefined) throw new Error('requestWebSerialPort: this browser has no Web Serial (navigator.serial); use a Chromium-based browser over HTTPS or localhost, or openSerialPortTransport in Node');
  return serial.requestPort(filters.length > 0 ? { filters } : {});
}

/** A Web Serial port as a {@link ByteTransport}; made by {@link openWebSerialTransport}. */
export class WebSerialTransport implements ByteTransport {
  readonly #port: WebSerialPortLike;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #listeners = new DataListeners();
  readonly #loop: Promise<void>;
  #open = true;
  /** The error that ended the read loop, if any. */
  lastError: unknown;

  /** Wraps an opened port (use {@link openWebSerialTransport}). */
  constructor(port: WebSerialPortLike) {
    if (port.readable === null || port.writable === null) throw new Error('WebSerialTransport: the port is not open (readable/writable are null)');
    this.#port = port;
    this.#reader = port.readable.getReader();
    this.#writer = port.writable.getWriter();
    this.#loop = this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        if (value && value.length > 0) this.#listeners.emit(value, 'WebSerialTransport');
      }
    } catch (e) {
      if (this.#open) this.lastError = e;
    } finally {
      this.#reader.releaseLock();
    }
  }

  /** Whether the transport is open. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Writes `bytes` through the port's writer. */
  async write(bytes: Uint8Array): Promise<void> {
    if (!this.#open) throw new Error('WebSerialTransport.write: the transport is closed');
    await this.#writer.write(bytes);
  }

  /** Subscribes to incoming chunks. */
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.#listeners.add(listener, 'WebSerialTransport');
  }

  /** Stops reading, releases the streams and closes the port (idempotent). */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#listeners.clear();
    await this.#reader.cancel().catch(() => undefined);
    await this.#loop;
    this.#writer.releaseLock();
    await this.#port.close();
  }
}

/**
 * Opens `port` (from {@link requestWebSerialPort} or `navigator.serial.getPorts()`) at `baudRate`
 * (default 1 Mbit/s) and returns it as a {@link ByteTransport}.
 */
export async function openWebSerialTransport(port: WebSerialPortLike, options: WebSerialTransportOptions = {}): Promise<WebSerialTransport> {
  if (port === null || typeof port !== 'object' || typeof port.open !== 'function') throw new TypeError('openWebSerialTransport: port must be a Web Serial SerialPort');
  const baudRate = options.baudRate ?? 1_000_000;
  if (!Number.isInteger(baudRate) || baudRate <= 0) throw new RangeError(`openWebSerialTransport: baudRate must be a positive integer, got ${baudRate}`);
  await port.open({ baudRate });
  return new WebSerialTransport(port);
}

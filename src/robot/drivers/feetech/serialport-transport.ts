/**
 * NODE ONLY: a {@link ByteTransport} over a serial port with the `serialport` package (an optional
 * dependency). Nothing is imported at module load: `serialport` is loaded by the first call, so this
 * file is safe to re-export from browser-facing entry points, and a missing package gives a clear
 * error instead of a failed import. In browsers use `openWebSerialTransport`.
 * @module
 */
import { DataListeners, type ByteTransport } from './transport.js';

/** The part of `serialport`'s `SerialPort` this transport uses. */
interface NodeSerialPort {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  write(data: Uint8Array, callback: (err: Error | null | undefined) => void): boolean;
  drain(callback: (err: Error | null) => void): void;
  close(callback: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
}

/** The part of the `serialport` module this transport uses. */
interface SerialPortModule {
  SerialPort: {
    new (options: { path: string; baudRate: number; autoOpen: boolean }): NodeSerialPort;
    list(): Promise<SerialPortInfo[]>;
  };
}

/** A serial port as `serialport` lists it. */
export interface SerialPortInfo {
  /** Device path, e.g. `/dev/ttyACM0` or `COM3`. */
  readonly path: string;
  /** Manufacturer, when known. */
  readonly manufacturer?: string;
  /** USB vendor id (hex), when known. */
  readonly vendorId?: string;
  /** USB product id (hex), when known. */
  readonly productId?: string;
  /** Serial number, when known. */
  readonly serialNumber?: string;
}

/** Options of {@link openSerialPortTransport}. */
export interface SerialPortTransportOptions {
  /** Bit rate (default 1 000 000, the STS3215 factory setting used by SO-100/SO-101). */
  readonly baudRate?: number;
}

async function loadSerialPort(fn: string): Promise<SerialPortModule> {
  const specifier = 'serialport'; // a variable, so bundlers and type-checkers do not require the optional package
  try {
    return (await import(specifier)) as SerialPortModule;
  } catch (e) {
    const code = (e as { code?: string })?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(`${fn}: the optional dependency "serialport" is not installed; run \`npm install serialport\` (Node), or use openWebSerialTransport in a browser`);
    }
    throw new Error(`${fn}: loading "serialport" failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const settle = (fn: string, what: string, resolve: () => void, reject: (e: Error) => void) => (err: Error | null | undefined) =>
  err ? reject(new Error(`${fn}: ${what} failed: ${err.message}`)) : resolve();

/** A serial port as a {@link ByteTransport}; made by {@link openSerialPortTransport}. */
export class SerialPortTransport implements ByteTransport {
  readonly #port: NodeSerialPort;
  readonly #listeners = new DataListeners();
  /** The device path. */
  readonly path: string;
  /** The last error the port reported, if any. */
  lastError: Error | undefined;

  /**
   * Wraps an open `serialport` port (use {@link openSerialPortTransport}).
   * @internal
   */
  constructor(port: NodeSerialPort, path: string) {
    this.#port = port;
    this.path = path;
    port.on('data', (chunk) => this.#listeners.emit(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), `SerialPortTransport(${path})`));
    port.on('error', (err) => {
      this.lastError = err;
    });
  }

  /** Whether the port is open. */
  get isOpen(): boolean {
    return this.#port.isOpen;
  }

  /** Writes `bytes` and waits until the OS has taken them (drain). */
  write(bytes: Uint8Array): Promise<void> {
    const fn = `SerialPortTransport(${this.path}).write`;
    if (!this.#port.isOpen) return Promise.reject(new Error(`${fn}: the port is closed`));
    return new Promise<void>((resolve, reject) => {
      this.#port.write(bytes, (err) => {
        if (err) reject(new Error(`${fn}: ${err.message}`));
        else this.#port.drain(settle(fn, 'drain', resolve, reject));
      });
    });
  }

  /** Subscribes to incoming chunks. */
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.#listeners.add(listener, 'SerialPortTransport');
  }

  /** Closes the port (idempotent). */
  async close(): Promise<void> {
    this.#listeners.clear();
    if (!this.#port.isOpen) return;
    await new Promise<void>((resolve, reject) => this.#port.close(settle(`SerialPortTransport(${this.path}).close`, 'close', resolve, reject)));
    this.#port.removeAllListeners();
  }
}

/**
 * Opens the serial port at `path` (e.g. `/dev/ttyACM0`, `COM3`) at `baudRate` (default 1 Mbit/s) and
 * returns it as a {@link ByteTransport}. Loads `serialport` on first use; throws a clear error when
 * the optional package is missing or the port cannot be opened.
 */
export async function openSerialPortTransport(path: string, options: SerialPortTransportOptions = {}): Promise<SerialPortTransport> {
  const fn = `openSerialPortTransport(${JSON.stringify(path)})`;
  if (typeof path !== 'string' || path === '') throw new TypeError(`openSerialPortTransport: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const baudRate = options.baudRate ?? 1_000_000;
  if (!Number.isInteger(baudRate) || baudRate <= 0) throw new RangeError(`${fn}: baudRate must be a positive integer, got ${baudRate}`);
  const { SerialPort } = await loadSerialPort(fn);
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open(settle(fn, 'open', resolve, reject)));
  return new SerialPortTransport(port, path);
}

/** The serial ports `serialport` can see (to find the arm's adapter). */
export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  const { SerialPort } = await loadSerialPort('listSerialPorts');
  return SerialPort.list();
}

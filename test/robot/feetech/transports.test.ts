/**
 * The byte transports under the Feetech bus: the in-memory link (order, close), Web Serial over a
 * stand-in port built on WHATWG streams, and the isolation rules — the Web Serial file uses no Node
 * modules, and the serialport file loads `serialport` only when called.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FeetechBus } from '../../../src/robot/drivers/feetech/bus.js';
import { FeetechEmulator } from '../../../src/robot/drivers/feetech/emulator.js';
import { createMemoryLink } from '../../../src/robot/drivers/feetech/transport.js';
import { openWebSerialTransport, requestWebSerialPort, type WebSerialPortLike } from '../../../src/robot/drivers/feetech/web-serial-transport.js';

describe('in-memory link', () => {
  test('bytes arrive in order, whatever the chunking; closing one end closes both and later writes reject', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 20 }), { maxLength: 10 }), fc.integer({ min: 1, max: 7 }), async (writes, size) => {
        const chunk = (b: Uint8Array) => Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size));
        const [a, b] = createMemoryLink({ split: chunk });
        const got: number[] = [];
        b.onData((c) => got.push(...c));
        for (const w of writes) await a.write(w);
        await new Promise((r) => setTimeout(r, 0));
        assert.deepEqual(got, writes.flatMap((w) => Array.from(w)));
        await b.close();
        assert.equal(a.isOpen, false);
        await assert.rejects(a.write(Uint8Array.of(1)), /MemoryTransport.write: the transport is closed/);
      }),
      { numRuns: 30 },
    );
  });
});

/** A Web Serial port stand-in whose streams lead to an emulated bus. */
function fakeWebSerialPort(): { port: WebSerialPortLike; emulator: FeetechEmulator; opened: number[]; closed: () => boolean } {
  const [host, device] = createMemoryLink();
  const emulator = new FeetechEmulator(device);
  const opened: number[] = [];
  let isClosed = false;
  let readable: ReadableStream<Uint8Array> | null = null;
  let writable: WritableStream<Uint8Array> | null = null;
  const port: WebSerialPortLike = {
    async open({ baudRate }) {
      opened.push(baudRate);
      readable = new ReadableStream<Uint8Array>({
        start(controller) {
          host.onData((c) => controller.enqueue(c));
        },
      });
      writable = new WritableStream<Uint8Array>({ write: (c) => host.write(c) });
    },
    async close() {
      assert.ok(readable && !readable.locked && writable && !writable.locked, 'close() needs unlocked streams, as Web Serial requires');
      isClosed = true;
      await host.close();
    },
    get readable() {
      return readable;
    },
    get writable() {
      return writable;
    },
  };
  return { port, emulator, opened, closed: () => isClosed };
}

describe('Web Serial transport', () => {
  test('a bus over Web Serial pings and sync-reads the emulated arm; close releases the streams and closes the port', async () => {
    const { port, emulator, opened, closed } = fakeWebSerialPort();
    const transport = await openWebSerialTransport(port);
    assert.deepEqual(opened, [1_000_000]);
    const bus = new FeetechBus(transport, { timeoutMs: 20 });
    try {
      for (const id of emulator.ids) await bus.ping(id);
      assert.deepEqual([...(await bus.syncReadRegister(emulator.ids, 'presentPosition')).values()], [2048, 2048, 2048, 2048, 2048, 2048]);
    } finally {
      await bus.close();
      await emulator.close();
    }
    assert.equal(closed(), true);
    assert.equal(transport.isOpen, false);
    await assert.rejects(transport.write(Uint8Array.of(1)), /WebSerialTransport.write: the transport is closed/);
  });

  test('without navigator.serial, requesting a port says why', async () => {
    await assert.rejects(requestWebSerialPort(), /requestWebSerialPort: this browser has no Web Serial \(navigator.serial\)/);
  });
});

describe('transport isolation', () => {
  const source = (name: string) => readFileSync(fileURLToPath(new URL(`../../../../src/robot/drivers/feetech/${name}`, import.meta.url)), 'utf8');
  const staticImports = (text: string) => [...text.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);

  test('the Web Serial file imports only relative modules and mentions no Node API', () => {
    const text = source('web-serial-transport.ts');
    assert.ok(staticImports(text).every((s) => s!.startsWith('./')), String(staticImports(text)));
    assert.doesNotMatch(text, /node:|Buffer|process\.|require\(/);
  });

  test('the serialport file has no static import of serialport: it is loaded on first call', () => {
    const text = source('serialport-transport.ts');
    assert.ok(staticImports(text).every((s) => s!.startsWith('./')), String(staticImports(text)));
    assert.match(text, /await import\(specifier\)/);
  });
});

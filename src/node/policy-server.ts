/**
 * A policy server speaking openpi's WebSocket protocol (see `robot/server/protocol.ts`), on Node's `http`
 * and the `ws` package: metadata as the first frame, msgpack observations in and actions out, `/healthz`
 * on the same port, an optional API key checked at the handshake.
 *
 * Every frame is checked (`decodeObservation`: size, msgpack, a map, consistent arrays, the schema)
 * before the policy sees it; a bad frame is answered with an error frame and nothing else changes.
 * Requests on one connection are answered in order, one at a time; across connections they share
 * `maxConcurrent` policy calls through one first-come-first-served queue in which each connection holds
 * at most one place, so clients take turns (round robin) however many requests each has sent.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { describeValue, packMsgpackNumpy } from '../robot/server/msgpack-numpy.js';
import { checkSchema, decodeObservation, type Observation, type ObservationSchema } from '../robot/server/observation-schema.js';
import { API_KEY_QUERY_PARAM, CLOSE_CODES, HEALTH_PATH, PolicyProtocolError, errorFrame, parseApiKeyHeader } from '../robot/server/protocol.js';
import type { ServedPolicy } from '../robot/server/served-policy.js';

/** How to run a {@link PolicyServer}. */
export interface PolicyServerOptions {
  /** The policy to serve. */
  readonly policy: ServedPolicy;
  /** Sent to every client as its first frame (openpi: the policy's metadata). Default `{}`. */
  readonly metadata?: { readonly [key: string]: unknown };
  /** Interface to bind. Default `127.0.0.1` (openpi binds `0.0.0.0`; say so explicitly to serve the network). */
  readonly host?: string;
  /** Port to bind; 0 (the default) picks a free one (see {@link PolicyServer.port}). */
  readonly port?: number;
  /** When set, connections must present this key (`Authorization: Api-Key <key>`, or `?api_key=`); others get HTTP 401. */
  readonly apiKey?: string;
  /** What observations must hold; none means any map. */
  readonly schema?: ObservationSchema;
  /** Refuse observation keys the schema does not list. Default false. */
  readonly rejectExtraKeys?: boolean;
  /** Frames longer than this get a `frame_too_large` error reply. Default 32 MiB. */
  readonly maxFrameBytes?: number;
  /** Frames longer than this are not read: the connection is closed with 1009. Default 2 × `maxFrameBytes`. */
  readonly maxPayloadBytes?: number;
  /** Policy calls in progress at once, across all connections. Default 1. */
  readonly maxConcurrent?: number;
  /**
   * Observations one connection may have waiting; more get `overloaded`. A connection with 4 × this
   * many frames of any kind waiting is closed with 1008 (Policy Violation). Default 16.
   */
  readonly maxPendingPerConnection?: number;
  /** Add openpi's `server_timing: {infer_ms, prev_total_ms}` to every reply. Default true. */
  readonly serverTiming?: boolean;
  /** Receives one line per notable event (policy errors, bad frames, connection errors). Default: nothing. */
  readonly log?: (line: string) => void;
}

/** How long {@link PolicyServer.close} waits. */
export interface PolicyServerCloseOptions {
  /** Milliseconds for requests in progress to finish and clients to acknowledge the close; then sockets are cut. Default 5000. */
  readonly timeoutMs?: number;
}

interface Request {
  readonly frame: number;
  readonly received: number;
  readonly observation?: Observation;
  readonly error?: PolicyProtocolError;
}

interface Connection {
  readonly socket: WebSocket;
  frames: number;
  readonly queue: Request[];
  running: boolean;
  prevTotalMs: number | undefined;
}

/** A first-come-first-served counting semaphore. */
class Slots {
  private free: number;
  private readonly waiters: (() => void)[] = [];
  constructor(count: number) {
    this.free = count;
  }
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

const MiB = 1024 * 1024;
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`PolicyServer.start: ${name} must be a positive integer, got ${v}`);
  return v;
}

function rejectUpgrade(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  const lines = [`HTTP/1.1 ${status} ${text}`, 'Connection: close', 'Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** A running policy server; create one with {@link PolicyServer.start}. */
export class PolicyServer {
  /** The bound interface. */
  readonly host: string;
  /** The bound port. */
  readonly port: number;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly policy: ServedPolicy;
  private readonly metadataFrame: Uint8Array;
  private readonly keyDigest: Buffer | undefined;
  private readonly schema: ObservationSchema | undefined;
  private readonly rejectExtraKeys: boolean;
  private readonly maxFrameBytes: number;
  private readonly maxPending: number;
  private readonly serverTiming: boolean;
  private readonly log: (line: string) => void;
  private readonly slots: Slots;
  private readonly connections = new Set<Connection>();
  private readonly listeners = new Set<() => void>();
  private closing: Promise<void> | undefined;

  private constructor(options: PolicyServerOptions, http: Server, wss: WebSocketServer, metadataFrame: Uint8Array, host: string, port: number) {
    this.http = http;
    this.wss = wss;
    this.host = host;
    this.port = port;
    this.policy = options.policy;
    this.metadataFrame = metadataFrame;
    this.keyDigest = options.apiKey === undefined ? undefined : digest(options.apiKey);
    this.schema = options.schema;
    this.rejectExtraKeys = options.rejectExtraKeys ?? false;
    this.maxFrameBytes = options.maxFrameBytes ?? 32 * MiB;
    this.maxPending = options.maxPendingPerConnection ?? 16;
    this.serverTiming = options.serverTiming ?? true;
    this.log = options.log ?? (() => {});
    this.slots = new Slots(options.maxConcurrent ?? 1);
    http.on('request', (req, res) => this.onHttpRequest(req, res));
    http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  /** Checks the options (throwing at once on bad ones), binds, and resolves once listening. */
  static async start(options: PolicyServerOptions): Promise<PolicyServer> {
    if (typeof options?.policy?.infer !== 'function') throw new Error('PolicyServer.start: options.policy must have an infer(observation) method');
    const maxFrameBytes = positiveInt('maxFrameBytes', options.maxFrameBytes ?? 32 * MiB);
    const maxPayload = positiveInt('maxPayloadBytes', options.maxPayloadBytes ?? 2 * maxFrameBytes);
    if (maxPayload < maxFrameBytes) throw new Error(`PolicyServer.start: maxPayloadBytes (${maxPayload}) must be ≥ maxFrameBytes (${maxFrameBytes})`);
    positiveInt('maxConcurrent', options.maxConcurrent ?? 1);
    positiveInt('maxPendingPerConnection', options.maxPendingPerConnection ?? 16);
    if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || !/^\S+$/.test(options.apiKey))) {
      throw new Error('PolicyServer.start: apiKey must be a non-empty string without whitespace');
    }
    if (options.schema !== undefined) checkSchema(options.schema);
    const metadataFrame = packMsgpackNumpy(options.metadata ?? {});
    const host = options.host ?? '127.0.0.1';
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: maxPayload, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const address = http.address();
    const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
    return new PolicyServer(options, http, wss, metadataFrame, host, port);
  }

  /** `ws://host:port`, for clients. */
  get url(): string {
    return `ws://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Frames received and not yet answered, over all connections. */
  get pendingRequests(): number {
    let n = 0;
    for (const c of this.connections) n += c.queue.length;
    return n;
  }

  /**
   * Shuts down gracefully: stops accepting connections and requests (new frames get `shutting_down`,
   * `/healthz` answers 503), lets requests already received finish and be answered, closes every
   * connection with 1001 (Going Away), and resolves once the port is released. After `timeoutMs`,
   * whatever is left is cut. Calling it again returns the same promise.
   */
  close(options: PolicyServerCloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options.timeoutMs ?? 5000);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const released = new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.waitUntil(() => [...this.connections].every((c) => c.queue.length === 0), deadline);
    for (const c of this.connections) c.socket.close(CLOSE_CODES.goingAway, 'server shutting down');
    await this.waitUntil(() => this.connections.size === 0, deadline);
    for (const c of this.connections) c.socket.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await released;
  }

  private changed(): void {
    for (const f of [...this.listeners]) f();
  }

  private async waitUntil(done: () => boolean, deadline: number): Promise<void> {
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.listeners.add(wake);
      const timer = setTimeout(wake, left);
      await woken;
      clearTimeout(timer);
      this.listeners.delete(wake);
    }
  }

  private onHttpRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(this.closing ? 503 : 200, { 'Content-Type': 'text/plain' });
      res.end(this.closing ? 'shutting down\n' : 'OK\n');
    } else {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'Upgrade' });
      res.end('Upgrade Required: this is a WebSocket policy server\n');
    }
  }

  private authorised(req: IncomingMessage): boolean {
    if (this.keyDigest === undefined) return true;
    const key = parseApiKeyHeader(req.headers.authorization) ?? new URL(req.url ?? '/', 'http://localhost').searchParams.get(API_KEY_QUERY_PARAM);
    return key !== null && key !== undefined && timingSafeEqual(digest(key), this.keyDigest);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (e) => this.log(`policy server: handshake socket error: ${e.message}`));
    if (this.closing) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if (!this.authorised(req)) {
      this.log(`policy server: refused an unauthorised connection from ${req.socket.remoteAddress}`);
      return rejectUpgrade(socket, 401, 'Unauthorized', { 'WWW-Authenticate': 'Api-Key' });
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(socket: WebSocket): void {
    const conn: Connection = { socket, frames: 0, queue: [], running: false, prevTotalMs: undefined };
    this.connections.add(conn);
    socket.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
    socket.on('error', (e) => this.log(`policy server: connection error: ${e.message}`));
    socket.on('close', () => {
      this.connections.delete(conn);
      conn.queue.splice(conn.running ? 1 : 0);
      this.changed();
    });
    socket.send(this.metadataFrame);
  }

  private onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    const frame = conn.frames++;
    const received = performance.now();
    const fail = (error: PolicyProtocolError): void => {
      this.log(`policy server: frame ${frame}: ${error.code}: ${error.message}`);
      conn.queue.push({ frame, received, error });
    };
    if (conn.queue.length >= 4 * this.maxPending) {
      // A client that keeps sending while its replies wait: bound the memory it can hold here.
      this.log(`policy server: frame ${frame}: ${conn.queue.length} frames waiting; closing the connection`);
      conn.socket.close(CLOSE_CODES.policyViolation, 'too many frames waiting');
      return;
    }
    const waiting = conn.queue.reduce((n, r) => n + (r.observation ? 1 : 0), 0);
    if (this.closing) fail(new PolicyProtocolError('shutting_down', 'the server is shutting down'));
    else if (!isBinary) fail(new PolicyProtocolError('not_binary', 'frame: a text frame; observations are binary msgpack frames'));
    else if (waiting >= this.maxPending) fail(new PolicyProtocolError('overloaded', `frame: ${waiting} requests already waiting on this connection (limit ${this.maxPending})`));
    else {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      try {
        const observation = decodeObservation(bytes, { maxFrameBytes: this.maxFrameBytes, schema: this.schema, rejectExtraKeys: this.rejectExtraKeys });
        conn.queue.push({ frame, received, observation });
      } catch (e) {
        fail(e instanceof PolicyProtocolError ? e : new PolicyProtocolError('invalid_frame', `frame: ${(e as Error).message}`));
      }
    }
    this.pump(conn);
  }

  // Answers the connection's requests in order: errors at once, observations through the shared slots.
  private pump(conn: Connection): void {
    while (!conn.running && conn.queue.length > 0) {
      const request = conn.queue[0]!;
      if (request.error !== undefined) {
        conn.queue.shift();
        if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(errorFrame(request.error, request.frame));
        continue;
      }
      conn.running = true;
      void this.slots
        .acquire()
        .then(() => this.serve(conn, request))
        .catch((e: unknown) => this.log(`policy server: frame ${request.frame}: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.slots.release();
          conn.running = false;
          if (conn.queue[0] === request) conn.queue.shift();
          this.pump(conn);
          this.changed();
        });
    }
    this.changed();
  }

  private async serve(conn: Connection, request: Request): Promise<void> {
    if (conn.socket.readyState !== WebSocket.OPEN) return;
    const start = performance.now();
    let reply: Uint8Array;
    try {
      const out = await this.policy.infer(request.observation!);
      if (describeValue(out) !== 'map') throw new Error(`returned ${describeValue(out)}, not a map`);
      const timing = { infer_ms: performance.now() - start, ...(conn.prevTotalMs === undefined ? {} : { prev_total_ms: conn.prevTotalMs }) };
      reply = packMsgpackNumpy(this.serverTiming ? { ...out, server_timing: timing } : out);
    } catch (e) {
      const error = new PolicyProtocolError('policy_error', `policy.infer: ${e instanceof Error ? e.message : String(e)}`);
      this.log(`policy server: frame ${request.frame}: ${error.message}`);
      if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(errorFrame(error, request.frame));
      return;
    }
    if (conn.socket.readyState !== WebSocket.OPEN) return;
    conn.socket.send(reply);
    conn.prevTotalMs = performance.now() - request.received;
  }
}

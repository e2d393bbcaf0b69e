/**
 * A client for an openpi-protocol policy server (this library's `PolicyServer`, or openpi's Python
 * `WebsocketPolicyServer`): connect, read the metadata frame, send observations, decode actions.
 * It uses only the WebSocket API, so the same code runs in browsers (the native `WebSocket`) and in Node
 * (`connectPolicyClient` from `being-ts/node` wires in the `ws` package and sends the API key as a
 * header). See `protocol.ts` for the protocol.
 *
 * @example
 * const client = await PolicyClient.connect('ws://127.0.0.1:8000');
 * console.log(client.metadata);
 * const { actions } = await client.infer({
 *   'observation/image': NdArray.zeros('uint8', [224, 224, 3]),
 *   'observation/state': NdArray.zeros('float32', [14]),
 *   prompt: 'pick up the cube',
 * });
 * await client.close();
 * @module
 */
import { describeValue, packMsgpackNumpy, unpackMsgpackNumpy, type MsgpackNumpyValue } from './msgpack-numpy.js';
import { API_KEY_QUERY_PARAM, PolicyProtocolError, parseErrorFrame } from './protocol.js';

/** The parts of the WebSocket API the client uses: the browser's `WebSocket` and `ws`'s both fit. */
export interface WebSocketLike {
  /** Set to `"arraybuffer"` by the client. */
  binaryType: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Sends one binary frame. */
  send(data: Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /**
   * Listens for `open`, `message`, `error` and `close`; the client reads the events' fields listed in
   * {@link WebSocketEventLike}.
   */
  addEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: unknown) => void): void;
}

/** The fields of WebSocket events the client reads (`message`: `data`, an `ArrayBuffer` or a string; `close`: `code`, `reason`). */
export interface WebSocketEventLike {
  /** A message's payload. */
  readonly data?: unknown;
  /** A close event's code. */
  readonly code?: number;
  /** A close event's reason. */
  readonly reason?: string;
  /** An error event's message, where the implementation gives one (`ws` does). */
  readonly message?: string;
}

/** Opens a WebSocket to `url`, delivering `apiKey` (when given) the way the implementation can. */
export type WebSocketFactory = (url: string, apiKey: string | undefined) => WebSocketLike;

/** How to connect. */
export interface PolicyClientOptions {
  /** The server's API key, if it needs one. */
  readonly apiKey?: string;
  /**
   * Opens the socket. Default: the global `WebSocket` (browsers, Deno, Node ≥ 22), with the key in the
   * `api_key` query parameter since the browser API cannot set headers.
   */
  readonly webSocket?: WebSocketFactory;
  /** Give up connecting (socket open and metadata received) after this many ms. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Fail a request, and close the connection, when its reply takes longer than this many ms. Default: no limit. */
  readonly requestTimeoutMs?: number;
}

/** What a server replies: the action map (openpi's `actions`, `server_timing`, …). */
export type PolicyReply = { readonly [key: string]: MsgpackNumpyValue };

interface Pending {
  resolve(reply: PolicyReply): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Appends the API key as a query parameter (for WebSocket implementations that cannot send headers). */
export function withApiKeyQuery(url: string, apiKey: string | undefined): string {
  if (apiKey === undefined) return url;
  const u = new URL(url);
  u.searchParams.set(API_KEY_QUERY_PARAM, apiKey);
  return u.toString();
}

const browserWebSocket: WebSocketFactory = (url, apiKey) => {
  const Native = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (Native === undefined) throw new Error('PolicyClient.connect: no global WebSocket here; pass options.webSocket (in Node: connectPolicyClient from being-ts/node)');
  return new Native(withApiKeyQuery(url, apiKey));
};

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** A connection to a policy server. Requests may overlap; replies are matched to them in order. */
export class PolicyClient {
  /** The server's metadata: its first frame. */
  readonly metadata: PolicyReply;
  private readonly socket: WebSocketLike;
  private readonly requestTimeoutMs: number;
  private readonly waiting: Pending[] = [];
  private closedBy: PolicyProtocolError | undefined;
  private readonly closedPromise: Promise<void>;

  private constructor(socket: WebSocketLike, metadata: PolicyReply, requestTimeoutMs: number, closed: Promise<void>) {
    this.socket = socket;
    this.metadata = metadata;
    this.requestTimeoutMs = requestTimeoutMs;
    this.closedPromise = closed;
  }

  /**
   * Opens a connection and waits for the metadata frame. `url` is `ws://host:port` (a bare `host:port`
   * gets `ws://`). Rejects with a `connection_failed` {@link PolicyProtocolError} when the socket does not
   * open (refused, or HTTP 401 for a missing or wrong key), closes first, sends something other than a
   * msgpack map first, or the timeout passes. Throws at once for bad timeouts, or when there is no
   * WebSocket implementation (no global `WebSocket` and no `options.webSocket`).
   */
  static connect(url: string, options: PolicyClientOptions = {}): Promise<PolicyClient> {
    const full = /^wss?:\/\//i.test(url) ? url : `ws://${url}`;
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const requestTimeoutMs = options.requestTimeoutMs ?? 0;
    if (!(timeoutMs > 0)) throw new Error(`PolicyClient.connect: connectTimeoutMs must be positive, got ${timeoutMs}`);
    if (!(requestTimeoutMs >= 0)) throw new Error(`PolicyClient.connect: requestTimeoutMs must be ≥ 0, got ${requestTimeoutMs}`);
    const socket = (options.webSocket ?? browserWebSocket)(full, options.apiKey);
    socket.binaryType = 'arraybuffer';
    return new Promise((resolve, reject) => {
      let client: PolicyClient | undefined;
      let failure: string | undefined;
      let markClosed!: () => void;
      const closed = new Promise<void>((r) => (markClosed = r));
      const fail = (why: string): void => {
        if (client !== undefined || failure !== undefined) return;
        failure = why;
        clearTimeout(timer);
        reject(new PolicyProtocolError('connection_failed', `PolicyClient.connect: ${full}: ${why}`));
        if (socket.readyState < 2) socket.close();
      };
      const timer = setTimeout(() => fail(`no metadata within ${timeoutMs} ms`), timeoutMs);
      socket.addEventListener('message', (e) => {
        const event = e as WebSocketEventLike;
        if (client !== undefined) return client.onMessage(event.data);
        if (failure !== undefined) return;
        const bytes = toBytes(event.data);
        if (bytes === undefined) return fail(`the first frame is text, not metadata: ${String(event.data).slice(0, 500)}`);
        let metadata: MsgpackNumpyValue;
        try {
          metadata = unpackMsgpackNumpy(bytes);
        } catch (e) {
          return fail(`bad metadata frame (${(e as Error).message})`);
        }
        if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || describeValue(metadata) !== 'map') {
          return fail(`the metadata frame is ${describeValue(metadata)}, not a map`);
        }
        clearTimeout(timer);
        client = new PolicyClient(socket, metadata as PolicyReply, requestTimeoutMs, closed);
        resolve(client);
      });
      socket.addEventListener('error', (e) => fail(`socket error${(e as WebSocketEventLike).message ? `: ${(e as WebSocketEventLike).message}` : ''}`));
      socket.addEventListener('close', (e) => {
        const event = e as WebSocketEventLike;
        markClosed();
        if (client !== undefined) client.onClose(event.code, event.reason);
        else fail(`closed before the metadata frame (code ${event.code ?? '?'}${event.reason ? `, ${event.reason}` : ''})`);
      });
    });
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Whether the connection has closed (or is closing). */
  get closed(): boolean {
    return this.closedBy !== undefined || this.socket.readyState >= 2;
  }

  /**
   * Sends one observation and resolves with the server's reply. Rejects with the server's
   * {@link PolicyProtocolError} (its code, message and frame index) when the server answers with an
   * error frame; with `connection_closed` when the connection closes first; with `timeout` after
   * `requestTimeoutMs` (then the connection is closed, since later replies could no longer be matched).
   * Throws at once when `observation` cannot be encoded.
   */
  infer(observation: { readonly [key: string]: unknown }): Promise<PolicyReply> {
    if (this.closed) return Promise.reject(this.closedBy ?? new PolicyProtocolError('connection_closed', 'PolicyClient.infer: the connection is closed'));
    const bytes = packMsgpackNumpy(observation);
    return new Promise<PolicyReply>((resolve, reject) => {
      const entry: Pending = { resolve, reject, timer: undefined };
      if (this.requestTimeoutMs > 0) {
        entry.timer = setTimeout(() => this.abort(new PolicyProtocolError('timeout', `PolicyClient.infer: no reply within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
      }
      this.waiting.push(entry);
      this.socket.send(bytes);
    });
  }

  /** Closes the connection (normal closure); waiting requests fail with `connection_closed`. Resolves once closed. */
  close(): Promise<void> {
    this.abort(new PolicyProtocolError('connection_closed', 'PolicyClient: closed by the client'), 1000);
    return this.closedPromise;
  }

  private onMessage(data: unknown): void {
    const entry = this.waiting.shift();
    if (entry === undefined) {
      return this.abort(new PolicyProtocolError('server_error', 'PolicyClient: the server sent a frame nobody asked for'));
    }
    clearTimeout(entry.timer);
    const bytes = toBytes(data);
    if (bytes === undefined) return entry.reject(parseErrorFrame(String(data)));
    try {
      const reply = unpackMsgpackNumpy(bytes);
      if (describeValue(reply) !== 'map') throw new PolicyProtocolError('not_a_map', `PolicyClient: the reply is ${describeValue(reply)}, not a map`);
      entry.resolve(reply as PolicyReply);
    } catch (e) {
      entry.reject(e as Error);
    }
  }

  private onClose(code: number | undefined, reason: string | undefined): void {
    this.fail(this.closedBy ?? new PolicyProtocolError('connection_closed', `PolicyClient: the connection closed (code ${code ?? '?'}${reason ? `, ${reason}` : ''})`));
  }

  private abort(error: PolicyProtocolError, code?: number): void {
    this.fail(error);
    if (this.socket.readyState < 2) this.socket.close(code);
  }

  private fail(error: PolicyProtocolError): void {
    this.closedBy ??= error;
    for (const entry of this.waiting.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }
}

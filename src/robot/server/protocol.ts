/**
 * The policy-server wire protocol (openpi's `websocket_policy_server.py` / `websocket_client_policy.py`),
 * and what this library adds to it. One WebSocket connection:
 *
 * 1. The client opens the connection, with `Authorization: Api-Key <key>` when the server needs a key
 *    (openpi's client header), or, from browsers, which cannot set headers, `?api_key=<key>` in the URL.
 *    A missing or wrong key is refused at the handshake with HTTP 401.
 * 2. The server's first frame is its metadata: a binary frame, one msgpack map (see `msgpack-numpy.ts`).
 * 3. Then, any number of times: the client sends an observation (a binary frame, one msgpack map) and
 *    the server replies with an action map (a binary frame), `server_timing` added as openpi does.
 *    Requests on one connection are answered in the order sent; a client may send several before the
 *    first reply comes.
 * 4. A request that fails gets a TEXT frame instead of the binary reply, in its place in the order.
 *    openpi's server sends a Python traceback as text and closes the connection (code 1011); openpi's
 *    client raises on any text frame. This server sends a JSON object
 *    `{"error": <code>, "message": <text>, "frame": <index>}` (see {@link PolicyErrorCode}; `frame` is
 *    the 0-based index of the offending frame on this connection) and keeps the connection open, so a
 *    client that fixes its observation carries on. A frame beyond the transport bound is the exception:
 *    it is not read, and the connection is closed with 1009 (Message Too Big); so is a client that keeps
 *    sending while many of its frames wait (1008, Policy Violation).
 *
 * `GET /healthz` on the same port answers 200 `OK` (503 while the server shuts down), without a key.
 * @module
 */

/** Why a request, or a connection, failed. */
export type PolicyErrorCode =
  /** The frame is longer than the server's `maxFrameBytes` (the connection stays open). */
  | 'frame_too_large'
  /** A text frame where a binary msgpack frame was expected. */
  | 'not_binary'
  /** The bytes are not exactly one msgpack value. */
  | 'not_msgpack'
  /** Valid msgpack, but holding what the protocol does not carry (extension types, too deep nesting, non-string keys). */
  | 'invalid_frame'
  /** An `__ndarray__`/`__npgeneric__` map that is malformed: unsupported dtype, bad shape, data of the wrong length. */
  | 'invalid_ndarray'
  /** The top-level value is not a map. */
  | 'not_a_map'
  /** A key the observation schema requires is absent. */
  | 'missing_key'
  /** A key the observation schema does not list (only when extra keys are refused). */
  | 'unexpected_key'
  /** A value of the wrong kind (e.g. a string where the schema wants an array). */
  | 'wrong_type'
  /** An array of a dtype the schema does not allow. */
  | 'wrong_dtype'
  /** An array of a shape the schema does not allow. */
  | 'wrong_shape'
  /** Too many requests waiting on this connection. */
  | 'overloaded'
  /** The server is shutting down and takes no new requests. */
  | 'shutting_down'
  /** The policy threw, or returned something that cannot be sent. */
  | 'policy_error'
  /** A text frame that is not one of ours, e.g. an openpi Python server's traceback. */
  | 'server_error'
  /** Client side: the connection could not be opened (refused, unauthorised, no metadata). */
  | 'connection_failed'
  /** Client side: the connection closed while requests were waiting. */
  | 'connection_closed'
  /** Client side: no reply within the request timeout (the connection is then closed). */
  | 'timeout';

const CODES: ReadonlySet<string> = new Set<PolicyErrorCode>([
  'frame_too_large', 'not_binary', 'not_msgpack', 'invalid_frame', 'invalid_ndarray', 'not_a_map',
  'missing_key', 'unexpected_key', 'wrong_type', 'wrong_dtype', 'wrong_shape', 'overloaded',
  'shutting_down', 'policy_error', 'server_error', 'connection_failed', 'connection_closed', 'timeout',
]);

/** An error of the policy protocol, with its {@link PolicyErrorCode}. */
export class PolicyProtocolError extends Error {
  /** What went wrong. */
  readonly code: PolicyErrorCode;
  /** The index of the offending frame on its connection, when a server reported it. */
  readonly frame: number | undefined;

  /** @param frame the offending frame's index on its connection, when known */
  constructor(code: PolicyErrorCode, message: string, frame?: number) {
    super(message);
    this.name = 'PolicyProtocolError';
    this.code = code;
    this.frame = frame;
  }
}

/** The path of the health check: `GET` answers 200 `OK\n`. */
export const HEALTH_PATH = '/healthz';

/** The URL query parameter that carries the API key from browsers (which cannot set headers). */
export const API_KEY_QUERY_PARAM = 'api_key';

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  /** The server is shutting down. */
  goingAway: 1001,
  /** A client with too many frames waiting for replies. */
  policyViolation: 1008,
  /** A frame beyond the transport bound. */
  messageTooBig: 1009,
} as const;

/** The HTTP header openpi's client sends its key in: `Authorization: Api-Key <key>`. */
export function apiKeyHeader(apiKey: string): Record<string, string> {
  return { Authorization: `Api-Key ${apiKey}` };
}

/** The key in an `Authorization: Api-Key <key>` header value, or `undefined` when it is not of that form. */
export function parseApiKeyHeader(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /^Api-Key\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : undefined;
}

/** The text frame a server sends for a failed request: `{"error", "message", "frame"}` as JSON. */
export function errorFrame(error: PolicyProtocolError, frame: number): string {
  return JSON.stringify({ error: error.code, message: error.message, frame });
}

/**
 * Reads a text frame from a server as an error: ours (see {@link errorFrame}) keeps its code and frame
 * index; any other text (an openpi Python server's traceback) becomes `server_error` with the text as
 * its message.
 */
export function parseErrorFrame(text: string): PolicyProtocolError {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const { error, message, frame } = v as Record<string, unknown>;
      if (typeof error === 'string' && CODES.has(error) && typeof message === 'string') {
        return new PolicyProtocolError(error as PolicyErrorCode, message, Number.isSafeInteger(frame) ? (frame as number) : undefined);
      }
    }
  } catch {
    // Not JSON: someone else's error text.
  }
  return new PolicyProtocolError('server_error', text);
}

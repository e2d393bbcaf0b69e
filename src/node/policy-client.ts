/**
 * The policy client in Node: {@link PolicyClient} over the `ws` package, which (unlike the browser's
 * WebSocket) can send openpi's `Authorization: Api-Key <key>` header.
 * @module
 */
import { WebSocket } from 'ws';
import { PolicyClient, type PolicyClientOptions, type WebSocketFactory, type WebSocketLike } from '../robot/server/policy-client.js';
import { apiKeyHeader } from '../robot/server/protocol.js';

/** Options of {@link connectPolicyClient}: the client's, less the socket factory, plus the largest reply accepted. */
export interface NodePolicyClientOptions extends Omit<PolicyClientOptions, 'webSocket'> {
  /** Replies longer than this close the connection (1009). Default 256 MiB. */
  readonly maxPayloadBytes?: number;
}

/** A {@link WebSocketFactory} on `ws` that sends the key in the `Authorization: Api-Key <key>` header. */
export function nodeWebSocket(maxPayloadBytes = 256 * 1024 * 1024): WebSocketFactory {
  return (url, apiKey): WebSocketLike =>
    new WebSocket(url, { headers: apiKey === undefined ? {} : apiKeyHeader(apiKey), perMessageDeflate: false, maxPayload: maxPayloadBytes });
}

/** Connects a {@link PolicyClient} from Node (see `PolicyClient.connect`). */
export function connectPolicyClient(url: string, options: NodePolicyClientOptions = {}): Promise<PolicyClient> {
  return PolicyClient.connect(url, { ...options, webSocket: nodeWebSocket(options.maxPayloadBytes) });
}

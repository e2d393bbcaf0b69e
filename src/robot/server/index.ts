/**
 * The policy server's protocol and client (openpi's WebSocket + msgpack protocol); the server itself
 * is Node-only and lives in `being-ts/node` (`PolicyServer`).
 * @module
 */
export { NdArray, NumpyScalar, NUMPY_DTYPES, itemSize, numpyDTypeString, parseNumpyDType, shapeSize, ndarrayFromBytes, type NumpyDType, type NdArrayData, type NdArrayDataMap, type ParsedDType } from './ndarray.js';
export { packMsgpackNumpy, unpackMsgpackNumpy, describeValue, type MsgpackNumpyValue, type UnpackOptions } from './msgpack-numpy.js';
export { checkSchema, validateObservation, decodeObservation, type ObservationSchema, type FieldSpec, type ArraySpec, type StringSpec, type NumberSpec, type MapSpec, type Dim, type Observation, type ValidationOptions, type DecodeObservationOptions } from './observation-schema.js';
export { PolicyProtocolError, HEALTH_PATH, API_KEY_QUERY_PARAM, CLOSE_CODES, apiKeyHeader, parseApiKeyHeader, errorFrame, parseErrorFrame, type PolicyErrorCode } from './protocol.js';
export { PolicyClient, withApiKeyQuery, type PolicyClientOptions, type PolicyReply, type WebSocketLike, type WebSocketEventLike, type WebSocketFactory } from './policy-client.js';
export type { ServedPolicy, PolicyOutput } from './served-policy.js';
export { servePolicyLike, RemotePolicy, REMOTE_POLICY_KEYS, type ServePolicyLikeOptions, type ServedPolicyLike, type RemotePolicyOptions } from './remote-policy.js';

/**
 * The Echo service's contract, shared by the server and the client: each method's request and
 * response types, and the one check of each request. Payloads travel as JSON (the rpc package's
 * `json` serializer): readable with `call`, no schema compiler, and the types below keep both
 * ends honest at compile time. A method that moves large binary payloads would get its own
 * serializers instead (see the rpc README, "Serializers").
 */
import { RpcStatus } from '@netpoll/rpc';

/** The service's name in logs (`"service":"echo"`). */
export const kServiceName = 'echo';

/** `echo`: the plain unary call. */
export interface EchoRequest {
  message: string;
}
export interface EchoResponse {
  message: string;
}

/** `hash`: CPU-heavy, runs on the WorkerPool: SHA-256 of `data`, then of the digest, `rounds` times. */
export interface HashRequest {
  data: string;
  /** 1 to {@link kMaxHashRounds}; default 1. */
  rounds?: number;
}
export interface HashResponse {
  /** Hex digest. */
  digest: string;
  rounds: number;
}

/** `sleep`: waits `ms`, or fails early when the call's deadline passes or the client gives up. */
export interface SleepRequest {
  /** 0 to {@link kMaxSleepMs}. */
  ms: number;
}
export interface SleepResponse {
  /** How long it actually waited, in ms. */
  slept: number;
}

/** `health`: answers while the reactor serves. */
export type HealthRequest = Record<string, never>;
export interface HealthResponse {
  status: 'SERVING';
  /** Seconds since the reactor thread loaded the service. */
  uptime: number;
  pid: number;
}

/** Every method: its request and response. The client's `call` is typed by it. */
export interface EchoApi {
  echo: { request: EchoRequest; response: EchoResponse };
  hash: { request: HashRequest; response: HashResponse };
  sleep: { request: SleepRequest; response: SleepResponse };
  health: { request: HealthRequest; response: HealthResponse };
}

export type EchoMethod = keyof EchoApi;
export type RequestOf<M extends EchoMethod> = EchoApi[M]['request'];
export type ResponseOf<M extends EchoMethod> = EchoApi[M]['response'];

/** Largest `echo` message and `hash` data, in UTF-16 code units (a frame holds 4 MiB). */
export const kMaxTextLength = 1024 * 1024;
export const kMaxHashRounds = 1_000_000;
export const kMaxSleepMs = 60_000;

/** The code a handler answers for a request that fails its check (the client sees it as not processed). */
export const kInvalidArgument = 'INVALID_ARGUMENT';

// Refused: a request that fails its check is answered before any work, so the client reports it
// processed: false (safe to send again once fixed).
function invalid(message: string): RpcStatus {
  return new RpcStatus(kInvalidArgument, message, { refused: true });
}

function object(value: unknown, method: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${method}: the request must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, method: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      const known = keys.length === 0 ? 'none' : keys.join(', ');
      throw invalid(`${method}: unknown field ${JSON.stringify(key)} (fields: ${known})`);
    }
  }
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length > kMaxTextLength) {
    throw invalid(`${path} must be a string of at most ${kMaxTextLength} characters`);
  }
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${path} must be an integer from ${min} to ${max} (received ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/**
 * The check of each method's request: returns the request as its type, or throws an
 * `RpcStatus('INVALID_ARGUMENT')` naming the field. The server runs it before any work; the
 * client CLI runs it too, to refuse a bad request before sending it.
 */
export const kRequestParsers: { readonly [M in EchoMethod]: (value: unknown) => RequestOf<M> } = {
  echo(value) {
    const request = object(value, 'echo');
    onlyKeys(request, 'echo', ['message']);
    return { message: text(request.message, 'echo: message') };
  },
  hash(value) {
    const request = object(value, 'hash');
    onlyKeys(request, 'hash', ['data', 'rounds']);
    return {
      data: text(request.data, 'hash: data'),
      rounds:
        request.rounds === undefined
          ? 1
          : integer(request.rounds, 'hash: rounds', 1, kMaxHashRounds),
    };
  },
  sleep(value) {
    const request = object(value, 'sleep');
    onlyKeys(request, 'sleep', ['ms']);
    return { ms: integer(request.ms, 'sleep: ms', 0, kMaxSleepMs) };
  },
  health(value) {
    onlyKeys(object(value ?? {}, 'health'), 'health', []);
    return {};
  },
};

/** The method names, in the order of {@link kRequestParsers} (one list: it cannot drift). */
export const kEchoMethods = Object.freeze(Object.keys(kRequestParsers) as EchoMethod[]);

/** True when `name` is one of the service's methods. */
export function isEchoMethod(name: string): name is EchoMethod {
  return (kEchoMethods as readonly string[]).includes(name);
}

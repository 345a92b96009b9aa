/**
 * A service: method names mapped to handlers, resolved once into a table that finds a method by
 * the bytes of its name on the wire (no string is built per call).
 */
import type { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors';
import { encodeMethod } from '../protocol/encode';
import {
  rawSerializer,
  resolveSerializer,
  type Serializer,
  type SerializerOption,
} from '../serializers';
import type { CallContext } from './call-context';

/** Handles one call: returns (or resolves with) the response. */
export type Handler<Request = Buffer, Response = Buffer> = (
  request: Request,
  context: CallContext,
) => Response | PromiseLike<Response>;

/** A method with its own serializers. */
export interface MethodDefinition<Request = unknown, Response = unknown> {
  handler: Handler<Request, Response>;
  /** How the request is decoded; default: the server's `serializer`. */
  requestSerializer?: SerializerOption;
  /** How the response is encoded; default: the server's `serializer`. */
  responseSerializer?: SerializerOption;
}

/** Method names (1–255 printable ASCII characters) mapped to handlers or definitions. */
export type Service = Readonly<
  // biome-ignore lint/suspicious/noExplicitAny: handlers of any request and response types.
  Record<string, Handler<any, any> | MethodDefinition<any, any>>
>;

/** One resolved method. */
export interface Method {
  readonly name: string;
  readonly bytes: Buffer;
  readonly handler: Handler<unknown, unknown>;
  readonly requestSerializer: Serializer<unknown>;
  readonly responseSerializer: Serializer<unknown>;
  /** The request is passed as the pooled view (the raw serializer), not decoded. */
  readonly rawRequest: boolean;
}

/** Methods by name length, then compared byte by byte. */
export class MethodTable {
  readonly #byLength: Array<Method[] | undefined> = [];
  readonly names: readonly string[];

  constructor(service: unknown, serializer: Serializer<unknown>) {
    if (typeof service !== 'object' || service === null) {
      throw new InvalidArgumentError('service', 'an object of method handlers', service);
    }
    const names = Object.keys(service);
    if (names.length === 0)
      throw new InvalidArgumentError('service', 'at least one method', service);
    for (const name of names) {
      const path = `service.${name}`;
      const entry = (service as Record<string, unknown>)[name];
      const definition = (
        typeof entry === 'function' ? { handler: entry } : entry
      ) as MethodDefinition | null;
      if (typeof definition?.handler !== 'function') {
        throw new InvalidArgumentError(path, 'a handler function or { handler }', entry);
      }
      const requestSerializer =
        definition.requestSerializer === undefined
          ? serializer
          : resolveSerializer(definition.requestSerializer, `${path}.requestSerializer`);
      const method: Method = {
        name,
        bytes: encodeMethod(name, `${path} (the method name)`),
        handler: definition.handler as Handler<unknown, unknown>,
        requestSerializer,
        responseSerializer:
          definition.responseSerializer === undefined
            ? serializer
            : resolveSerializer(definition.responseSerializer, `${path}.responseSerializer`),
        rawRequest: requestSerializer === rawSerializer,
      };
      const bucket = this.#byLength[name.length] ?? [];
      bucket.push(method);
      this.#byLength[name.length] = bucket;
    }
    this.names = Object.freeze(names);
  }

  /** The method named by `body[start, start + length)`, or undefined. */
  find(body: Buffer, start: number, length: number): Method | undefined {
    const bucket = this.#byLength[length];
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const method = bucket[i]!;
      const bytes = method.bytes;
      let same = true;
      for (let j = 0; j < length; j++) {
        if (bytes[j] !== body[start + j]) {
          same = false;
          break;
        }
      }
      if (same) return method;
    }
    return undefined;
  }
}

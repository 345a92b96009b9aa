/**
 * The wire format's constants (README "Wire format", version 1): message kinds, flags, offsets
 * and limits. Everything the encoder and decoder agree on lives here, once.
 */

/** Protocol version carried in the high 4 bits of byte 0. */
export const kProtocolVersion = 1;

/** Message kinds (low 4 bits of byte 0). */
export const Kind = Object.freeze({
  REQUEST: 1,
  RESPONSE: 2,
  ERROR: 3,
  ONE_WAY: 4,
  PING: 5,
  PONG: 6,
  GOAWAY: 7,
  CANCEL: 8,
} as const);

/** A message kind. */
export type MessageKind = (typeof Kind)[keyof typeof Kind];

/** Flag bits of byte 1. */
export const kFlagDeadline = 0x01;
export const kFlagMetadata = 0x02;
export const kFlagClosing = 0x04;
/**
 * ERROR only: the handler did not run — the server refused the request before any of it was
 * processed (no such method, its deadline passed before its turn, it could not be decoded, or a
 * handler or interceptor refused before any work and said so with `RpcStatus`'s `refused`).
 */
export const kFlagRefused = 0x08;
export const kKnownFlags = kFlagDeadline | kFlagMetadata | kFlagClosing | kFlagRefused;

/** Where the kind-specific fields start: after kind/version (byte 0), flags (1) and seq (2–5). */
export const kFixedHeaderSize = 6;

/**
 * A method name, error code or metadata key: 1 to 255 printable ASCII characters (a u8 length;
 * no spaces or control characters).
 */
export const kShortAscii = /^[\x21-\x7e]{1,255}$/;
/** Longest error message and metadata value (a u16 length). */
export const kMaxLongString = 65535;
/** Most metadata entries in one message (a u8 count). */
export const kMaxMetadataEntries = 255;
/** Largest PING payload. */
export const kMaxPingPayload = 64;

/** Length-header sizes the framing supports. */
export type LengthHeader = 1 | 2 | 4;

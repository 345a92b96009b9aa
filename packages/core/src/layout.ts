/**
 * The shared-memory layout between the native reactor and the dispatcher, mirrored once from
 * `native/layout.h` (the native tests and `layout.native.test.ts` check both sides agree).
 */

export const kHeaderRecordCount = 0;
export const kHeaderFlags = 1;
export const kHeaderSubmitCount = 2;
export const kHeaderProcessedGen = 3;
export const kHeaderDebug = 4;
export const kBatchFlagNeedSlab = 1;

export const kRecordInts = 4;
export const kMaxRecords = 4096;
export const kRecordBase = 16;
export const kMaxSubmits = 4096;
export const kSubmitBase = kRecordBase + kMaxRecords * kRecordInts;
export const kMaxSlabs = 1024;
export const kSlabRefBase = kSubmitBase + kMaxSubmits * kRecordInts;
export const kControlInts = kSlabRefBase + kMaxSlabs;

export const kRecordData = 1;
export const kRecordAccept = 2;
export const kRecordConnect = 3;
export const kRecordHangup = 4;
export const kRecordDrain = 5;
export const kRecordFrameTooLarge = 6;
export const kRecordAcceptError = 7;
export const kRecordAcceptPaused = 8;
export const kRecordLingerDone = 9;
export const kRecordInputEnd = 10;

export const kSubmitWrite = 1;
export const kSubmitClose = 2;

export const kFdStateInts = 2;
export const kFdWritten = 0;
export const kFdFlags = 1;
export const kFdFlagBackpressure = 1;
export const kFdFlagLingering = 2;

/** Indices of the native counters in the stats Float64Array. */
export const kStatNames = Object.freeze([
  'batches',
  'events',
  'nativeToJsCalls',
  'reads',
  'bytesRead',
  'writevCalls',
  'bytesWritten',
  'accepts',
  'writeBlocked',
  'acceptBackoffs',
  'hookFlushes',
  'submissions',
  'readStalls',
  'readResumes',
  'lingering',
  'lingerCloses',
  'lingerExpired',
] as const);
export const kStatCount = kStatNames.length;
/** Index of the `lingering` gauge (closes lingering now). */
export const kStatLingering = kStatNames.indexOf('lingering');

/** Socket families of `native/socket.h`. */
export const kFamilyUnix = 1;
export const kFamilyIPv4 = 4;
export const kFamilyIPv6 = 6;

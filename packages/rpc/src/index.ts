export {
  Kind,
  kFlagClosing,
  kFlagDeadline,
  kFlagMetadata,
  kProtocolVersion,
  type LengthHeader,
  type MessageKind,
} from './protocol/frame';

export type { EchoImplementation, EchoServer, EchoServerOptions } from './echo-server';
export { kDefaultMaxFrameSize, kEchoImplementations } from './echo-server';
export { parseChoiceFlag, parseIntegerFlag, parseListFlag, wantsHelp } from './flags';
export type { EchoAddress } from './listen-address';
export { formatAddress, parseAddress } from './listen-address';
export { startEchoServer } from './start-echo-server';

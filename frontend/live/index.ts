// The live client of schema/PROTOCOL.md: the only code that opens sockets.
export { LiveStream } from "./stream";
export type { LiveEvent, Frame, Endpoint, LiveStatus, LiveStreamOptions, TransportChoice } from "./stream";
export { SeqGate } from "./seq-gate";
export { SendQueue, postJson, browserStorage } from "./send-queue";
export type { Outgoing, PostResult, QueueStorage, SendQueueOptions } from "./send-queue";

// The one place the dashboard makes live streams: LiveStream (frontend/live)
// with the API's endpoints and the agent's connection choice. Stores call
// this; components never see a stream. (LiveStream itself reconnects on
// `online` and when the tab becomes visible.)
import { LiveStream, type LiveEvent, type Frame, type LiveStatus } from "@live/stream";
import { liveUrls } from "@api/client";
import { useSession } from "./session";

export interface StreamHandlers {
  since: number;
  onEvent(e: LiveEvent): void;
  onFrame?(f: Frame): void;
  onStatus?(s: LiveStatus): void;
  /** The server refused the stream for good (403, 404: erased, not ours). */
  onGone?(error: { status: number; message: string }): void;
}

export function openStream(socketPath: string, pollPath: string, h: StreamHandlers): LiveStream {
  const session = useSession();
  const stream = new LiveStream({
    endpoint: liveUrls(socketPath, pollPath),
    since: h.since,
    transport: session.transport,
    // An agent's streams are gapless: a jump means resume.
    contiguous: true,
    onEvent: h.onEvent,
    onFrame: h.onFrame,
    onStatus: h.onStatus,
    onFatal: (err) => {
      if (err.status === 401) session.expire();
      else h.onGone?.(err);
    },
  });
  stream.start();
  return stream;
}

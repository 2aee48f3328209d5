// The resume rule of schema/PROTOCOL.md in one place: apply each `seq`
// exactly once, in order. A reconnect replays from the last applied `seq`,
// so whatever a replay repeats is dropped here.
//
// An agent's streams are gapless, so with `contiguous` a jump (which one
// connection never produces) tells the stream to resume from `last`. A
// visitor's stream leaves out private events and so has holes by design:
// there only the order is checked.

export type Offer = "apply" | "duplicate" | "gap";

export class SeqGate {
  constructor(
    private last = 0,
    private readonly contiguous = false,
  ) {}

  get lastSeq(): number {
    return this.last;
  }

  /** What to do with an event carrying `seq`; on "apply" it counts as applied. */
  offer(seq: number): Offer {
    if (!Number.isSafeInteger(seq) || seq <= this.last) return "duplicate";
    if (this.contiguous && seq !== this.last + 1) return "gap";
    this.last = seq;
    return "apply";
  }
}

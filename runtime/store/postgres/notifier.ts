// Sends the PostgreSQL lineage store's change notifications (channel `lineage_store`) after
// the writes they announce have committed, each batch in a short transaction of its own.
//
// Why not in the write's own transaction: a transaction that NOTIFYs takes one lock for the
// whole cluster at commit (PostgreSQL's async.c: "a special lock that we hold till after
// commit", so that queue entries appear in commit order) and keeps it until its commit record
// is flushed. Every notifying commit then waits for the one before it to reach the disk, and
// concurrent committers cannot share a WAL flush (group commit): sampled during 8 committers,
// the backends spent 70% of their time waiting for that lock, and 8 hardly beat one. A
// transaction that only NOTIFYs writes nothing but its commit record, which PostgreSQL then
// does not flush before returning (nothing else to make durable): it holds the lock briefly.
//
// The price, and why it is acceptable: a process killed between a commit and its notification
// (DELAY_MS and a round trip) leaves subscribers unaware of that one change. Notifications are wakeups over
// a store that stays the source of truth: the UI's run streams also poll, tokens change, and a
// subscriber that reconnects hears `activity`.
//
// A notification waits up to DELAY_MS for others to go with it, and changes queued while a
// batch is in flight go in the next one: a busy process sends at most one such transaction per
// DELAY_MS, not one per commit (which cost one committer a fifth of its rate, measured), and a
// subscriber hears of a change a few milliseconds later. Identical payloads (`activity`) in one
// batch are sent once, as PostgreSQL would fold them anyway.

/** How long a queued notification waits for others to share its transaction. */
export const DELAY_MS = 10;

/** Sends one batch of payloads, in order, in one transaction. */
export type SendNotifications = (payloads: readonly string[]) => Promise<unknown>;

export class PostCommitNotifier {
  readonly #send: SendNotifications;
  readonly #delayMs: number;
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(send: SendNotifications, delayMs = DELAY_MS) {
    this.#send = send;
    this.#delayMs = delayMs;
  }

  /** Queues `payload` to be sent within DELAY_MS or so; never waits, never throws (see above for a lost one). */
  notify(payload: string): void {
    this.#pending.add(payload);
    this.#schedule();
  }

  /** Sends what is queued now and resolves once all of it has been sent (or failed to be): call before closing the pool. */
  async settled(): Promise<void> {
    for (;;) {
      if (this.#inFlight) await this.#inFlight;
      else if (this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#flush();
      } else return;
    }
  }

  #schedule(): void {
    if (this.#timer || this.#inFlight || this.#pending.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, this.#delayMs);
  }

  #flush(): void {
    const batch = [...this.#pending];
    this.#pending.clear();
    this.#inFlight = this.#sendQuietly(batch).finally(() => {
      this.#inFlight = undefined;
      this.#schedule();
    });
  }

  async #sendQuietly(batch: readonly string[]): Promise<void> {
    try {
      await this.#send(batch);
    } catch {
      // A failed send (the server restarting) loses these wakeups only; the commits stand.
    }
  }
}

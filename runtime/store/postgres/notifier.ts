// Sends the PostgreSQL lineage store's change notifications (channel `lineage_store`) after
// the writes they announce have committed, each batch in a short transaction of its own.
//
// Why not in the write's own transaction: a transaction that NOTIFYs takes one lock for the
// whole cluster at commit (PostgreSQL's async.c: "a special lock that we hold till after
// commit", so that queue entries appear in commit order) and keeps it until its commit record
// is flushed. Every notifying commit then waits for the one before it to reach the disk, and
// concurrent committers cannot share a WAL flush (group commit): measured on bench/scale.ts, 8
// committers hardly beat one. A transaction that only NOTIFYs writes no WAL record of its own
// and so commits without waiting for a flush: it holds that lock for microseconds.
//
// The price, and why it is acceptable: a process killed between a commit and its notification
// (one round trip) leaves subscribers unaware of that one change. Notifications are wakeups over
// a store that stays the source of truth: the UI's run streams also poll, tokens change, and a
// subscriber that reconnects hears `activity`.
//
// Changes queued while a batch is in flight go out together in the next one, so a busy
// process sends far fewer transactions than it commits; identical payloads (`activity`) in one
// batch are sent once, as PostgreSQL would fold them anyway.

/** Sends one batch of payloads, in order, in one transaction. */
export type SendNotifications = (payloads: readonly string[]) => Promise<unknown>;

export class PostCommitNotifier {
  readonly #send: SendNotifications;
  readonly #pending = new Set<string>();
  #draining: Promise<void> | undefined;

  constructor(send: SendNotifications) {
    this.#send = send;
  }

  /** Queues `payload` to be sent soon; never waits, never throws (see above for a lost one). */
  notify(payload: string): void {
    this.#pending.add(payload);
    this.#draining ??= this.#drain();
  }

  /** Resolves once everything queued so far has been sent (or failed to be): call before closing the pool. */
  async settled(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.size > 0) {
        const batch = [...this.#pending];
        this.#pending.clear();
        try {
          await this.#send(batch);
        } catch {
          // A failed send (the server restarting) loses these wakeups only; the commits stand.
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}

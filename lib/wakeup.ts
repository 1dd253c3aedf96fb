// A poll loop's wait that a notification can cut short: `sleep(ms)` resolves after `ms` or at
// the next `wake()`, whichever comes first. A wake while nothing sleeps is dropped: a loop
// checks its state before it sleeps, so a notification that came in between is seen anyway
// by the next poll, at the latest `ms` later. Used by the worker loop (queue NOTIFYs), the
// UI's run event stream (run and store changes) and bench/queue.ts.
export class Wakeup {
  #wake: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}

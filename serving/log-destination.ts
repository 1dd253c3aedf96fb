// The server's log destination: pino's lines, handed to sonic-boom (pino.destination, which
// writes them to the file descriptor asynchronously and handles partial writes, EAGAIN on a
// full pipe and the synchronous flush at exit) a batch at a time rather than a line at a time.
// sonic-boom measures the byte length of everything it holds on each write (Buffer.byteLength
// of its pending string, which flattens it first), so with one access line per request the
// cost of a line grew with the buffer: in a CPU profile of cached /predict under load that was
// half of the access log's cost, more than formatting the line. Here a line is an array push;
// sonic-boom sees one string per ~8 KB. Every line is still written, in order.
import type pino from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/** About what sonic-boom writes at once (its maxWrite is 16 KiB): a batch goes over when it reaches this. */
const BATCH_CHARS = 8 * 1024;

export class BatchedDestination {
  #lines: string[] = [];
  #chars = 0;

  constructor(readonly target: SonicBoom) {}

  write(line: string): void {
    this.#lines.push(line);
    this.#chars += line.length;
    if (this.#chars >= BATCH_CHARS) this.#handOver();
  }

  /** Hands the lines held here to sonic-boom and has it write what it holds (`cb` once written). */
  flush(cb?: (err?: Error) => void): void {
    this.#handOver();
    this.target.flush(cb);
  }

  /** Writes out every line, synchronously (before process.exit). */
  flushSync(): void {
    this.#handOver();
    this.target.flushSync();
  }

  get destroyed(): boolean {
    return (this.target as unknown as { destroyed: boolean }).destroyed;
  }

  #handOver(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('');
    this.#lines = [];
    this.#chars = 0;
    this.target.write(text);
  }
}

// The one pool of DuckDB connections: opening a connection and pinning its session costs
// 1-4 ms, which thousands of small steps (or requests) should not pay each time. Connections
// are opened on demand, reset when they come back (`reset`), and kept for reuse up to
// `maxIdle`; with `maxOpen`, no more than that many are lent at once and later borrowers wait
// for one to come back, in the order they asked.
import type { DuckDBConnection } from '@duckdb/node-api';

export interface ConnectionPoolOptions {
  /** Opens a new connection (with its session settings). */
  readonly connect: () => Promise<DuckDBConnection>;
  /** How many returned connections are kept for reuse; read at each return, so it may follow a setting. */
  readonly maxIdle: number | (() => number);
  /** The most connections open at once; without it, a borrower never waits. */
  readonly maxOpen?: number;
  /** Makes a returned connection fit for the next borrower; a throw closes it instead. */
  readonly reset?: (conn: DuckDBConnection) => Promise<void>;
}

export class ConnectionPool {
  readonly #options: ConnectionPoolOptions;
  readonly #idle: DuckDBConnection[] = [];
  readonly #waiting: Array<{ resolve: (c: DuckDBConnection) => void; reject: (e: unknown) => void }> = [];
  #open = 0;
  #closed = false;

  constructor(options: ConnectionPoolOptions) {
    this.#options = options;
  }

  /** Lends `fn` a connection for its duration. */
  async with<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.borrow();
    try {
      return await fn(conn);
    } finally {
      await this.release(conn);
    }
  }

  async borrow(): Promise<DuckDBConnection> {
    if (this.#closed) throw new Error('The DuckDB connection pool is closed (the process is shutting down).');
    const idle = this.#idle.pop();
    if (idle) return idle;
    const { maxOpen } = this.#options;
    if (maxOpen !== undefined && this.#open >= maxOpen) return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
    return this.#opened();
  }

  async release(conn: DuckDBConnection): Promise<void> {
    if (this.#options.reset) {
      try {
        await this.#options.reset(conn);
      } catch {
        this.#discard(conn);
        // Its place is free again: a borrower waiting for it gets a new connection.
        const next = this.#waiting.shift();
        if (next) this.#opened().then(next.resolve, next.reject);
        return;
      }
    }
    const next = this.#waiting.shift();
    if (next) next.resolve(conn);
    else if (this.#closed) this.#discard(conn);
    else if (this.#idle.length < this.#maxIdle()) this.#idle.push(conn);
    else this.#discard(conn);
  }

  /** Closes the idle connections; those lent out are closed when they come back. */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) this.#discard(c);
  }

  async #opened(): Promise<DuckDBConnection> {
    this.#open++;
    try {
      return await this.#options.connect();
    } catch (e) {
      this.#open--;
      throw e;
    }
  }

  #discard(conn: DuckDBConnection): void {
    this.#open--;
    conn.closeSync();
  }

  #maxIdle(): number {
    const { maxIdle } = this.#options;
    return typeof maxIdle === 'number' ? maxIdle : maxIdle();
  }
}

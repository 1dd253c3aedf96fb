// A fixed set of DuckDB connections (from the runtime's one in-process DuckDB) lent to one
// query at a time: feature queries of different requests run side by side without sharing
// a connection's state, and no more than `size` run at once.
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbConnect } from '../../runtime/index.ts';

export class DuckDbPool {
  readonly #idle: DuckDBConnection[] = [];
  readonly #waiting: Array<(c: DuckDBConnection) => void> = [];
  #created = 0;
  #closed = false;

  constructor(readonly size: number) {}

  async with<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.#acquire();
    try {
      return await fn(conn);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(conn);
      else if (this.#closed) conn.closeSync();
      else this.#idle.push(conn);
    }
  }

  async #acquire(): Promise<DuckDBConnection> {
    if (this.#closed) throw new Error('The DuckDB pool is closed (the server is shutting down).');
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#created < this.size) {
      this.#created++;
      return duckdbConnect();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.closeSync();
  }
}

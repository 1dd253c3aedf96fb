// lib/duckdb: the one quoting of SQL literals (a path with a quote in it reads back through
// DuckDB as itself) and the one connection pool the runtime's steps and the server's feature
// queries share, on a real in-memory DuckDB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionPool } from '../../lib/duckdb/pool.ts';
import { readParquetSql, sqlIdent, sqlString, sqlStringList } from '../../lib/duckdb/sql.ts';

const instance = await DuckDBInstance.create(':memory:');

test('a string with quotes is one literal: DuckDB reads it back unchanged', async () => {
  const conn = await instance.connect();
  const tricky = "O'Hare's ''hub'' -- ; DROP";
  const r = await conn.runAndReadAll(`SELECT ${sqlString(tricky)} AS s, ${sqlStringList(['a', "b'c"])} AS l`);
  assert.equal(r.getRowObjectsJson(), [{ s: tricky, l: ['a', "b'c"] }]);
  assert.is(sqlIdent('a"b'), '"a""b"');
  conn.closeSync();
});

test('read_parquet over a file whose path has a quote in it', async () => {
  const dir = mkdtempSync(join(tmpdir(), "duck'db-"));
  try {
    const conn = await instance.connect();
    const path = join(dir, "it's.parquet");
    await conn.run(`COPY (SELECT 42 AS x) TO ${sqlString(path)} (FORMAT parquet)`);
    const r = await conn.runAndReadAll(`SELECT x FROM ${readParquetSql([path])}`);
    assert.equal(r.getRowObjectsJson(), [{ x: 42 }]);
    conn.closeSync();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with maxOpen, a borrower waits for a connection to come back and gets that one', async () => {
  let opened = 0;
  const pool = new ConnectionPool({
    connect: () => {
      opened++;
      return instance.connect();
    },
    maxIdle: 1,
    maxOpen: 1,
  });
  const first = await pool.borrow();
  let second: DuckDBConnection | undefined;
  const waiting = pool.borrow().then((c) => (second = c));
  await new Promise((r) => setTimeout(r, 20));
  assert.is(second, undefined, 'the second borrower got a connection while the only one was lent');
  await pool.release(first);
  await waiting;
  assert.is(second, first);
  assert.is(opened, 1);
  await pool.release(first);
  pool.close();
  const err = await pool.borrow().then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(err?.message), /closed/);
});

test('a returned connection is reset, kept up to maxIdle, and a failed reset closes it', async () => {
  let opened = 0;
  let failReset = false;
  const pool = new ConnectionPool({
    connect: () => {
      opened++;
      return instance.connect();
    },
    maxIdle: () => 1,
    reset: async (conn) => {
      if (failReset) throw new Error('reset failed');
      await conn.run('DROP TABLE IF EXISTS temp.main.scratch');
    },
  });
  const a = await pool.borrow();
  const b = await pool.borrow();
  assert.is(opened, 2, 'without maxOpen a borrower never waits');
  await a.run('CREATE TEMP TABLE scratch AS SELECT 1 AS x');
  await pool.release(a);
  await pool.release(b); // over maxIdle: closed
  const again = await pool.borrow();
  assert.is(again, a);
  const r = await again.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE temporary`);
  assert.equal(r.getRowObjectsJson(), [{ n: 0 }], "the previous borrower's temp table survived the return");
  failReset = true;
  await pool.release(again);
  const fresh = await pool.borrow();
  assert.is.not(fresh, a, 'a connection whose reset failed was lent again');
  assert.is(opened, 3);
  pool.close();
});

test.run();

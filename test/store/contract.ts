// The lineage store's contract, written once and run against every implementation
// (sqlite.test.ts, postgres.test.ts): what the executor, prune, the server and the UI
// rely on. Each test opens a new empty store through openLineageStore, as a process
// does with LINEAGE_STORE; the crash and concurrency tests use real child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isRuntimeError, type AssetKey, type DataVersion } from '../../runtime/index.ts';
import type { LineageStore, StoreChange } from '../../runtime/store/lineage-store-api.ts';
import { openLineageStore } from '../../runtime/store/open-store.ts';
import { PROJECT_ROOT } from '../support/cli.ts';
import { materializationOf } from './fixtures/records.ts';
import { automationContract } from './automation-contract.ts';
import { runQueueContract } from './run-queue-contract.ts';
import { assetRecordsContract } from './asset-records-contract.ts';

export interface StoreBackend {
  /** The location (file path or URL) of a new, empty store. */
  fresh(label: string): Promise<string>;
  /** Makes the store at `location` look written by a newer runtime (schema version one past this one's). */
  bumpSchemaVersion(location: string): Promise<void>;
  /** Runs once after the suite (stops a server, for instance). */
  teardown(): Promise<void>;
  /**
   * Runs one SQL statement on the store at `location`, as another process would write it: for
   * what a test cannot make through the API (a row queued by another host, a heartbeat of long ago).
   */
  exec(location: string, sql: string): Promise<void>;
}

const A = 'example/readings' as AssetKey;
const B = 'example/rolling' as AssetKey;
const DAY = 86_400_000;

export function storeContract(name: string, setup: () => Promise<StoreBackend>): void {
  const t = suite(`lineage store contract: ${name}`);
  let backend: StoreBackend;
  const opened: LineageStore[] = [];
  let n = 0;
  /** A new empty store; `location` to open it again from another handle. */
  const fresh = async (): Promise<{ store: LineageStore; location: string }> => {
    const location = await backend.fresh(`c${++n}`);
    const store = await openLineageStore(location);
    opened.push(store);
    return { store, location };
  };
  const again = async (location: string): Promise<LineageStore> => {
    const store = await openLineageStore(location);
    opened.push(store);
    return store;
  };
  const withRun = async (runId = 'r1', now = Date.now()) => {
    const s = await fresh();
    await s.store.createRun({ id: runId, selection: '*', partitions: null, trigger: 'test', now });
    return s;
  };

  t.before(async () => {
    backend = await setup();
  });
  t.after.each(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  t.after(async () => {
    await backend?.teardown();
  });

  // ---- runs ----

  t('runs: created running, listed newest first and by status, finished once with summary and error', async () => {
    const { store } = await fresh();
    await store.createRun({ id: 'old', selection: 'a*', partitions: '2024-01-01', trigger: 'cron', now: 1000 });
    await store.createRun({ id: 'new', selection: '*', partitions: null, trigger: 'cli', now: 2000 });
    const run = (await store.getRun('old'))!;
    assert.equal(
      [run.status, run.selection, run.partitions, run.trigger, run.pid, run.startedAt, run.heartbeatAt, run.endedAt],
      ['running', 'a*', '2024-01-01', 'cron', process.pid, 1000, 1000, null],
    );
    assert.equal(
      (await store.listRuns()).map((r) => r.id),
      ['new', 'old'],
    );
    assert.equal(
      (await store.listRuns({ limit: 1, offset: 1 })).map((r) => r.id),
      ['old'],
    );
    await store.finishRun('old', 'failed', { materialized: 2 }, 'boom', 3000);
    // A run already ended keeps its first ending.
    await store.finishRun('old', 'succeeded', {}, null, 4000);
    const ended = (await store.getRun('old'))!;
    assert.equal([ended.status, ended.summary, ended.error, ended.endedAt], ['failed', { materialized: 2 }, 'boom', 3000]);
    assert.equal(
      (await store.listRuns({ status: 'running' })).map((r) => r.id),
      ['new'],
    );
    assert.is(await store.getRun('nope'), undefined);
  });

  t('listRuns: a limit that is not a whole number is refused, naming the option', async () => {
    const { store } = await fresh();
    for (const bad of [1e20, Number.NaN, -1, 2.5]) {
      await store.listRuns({ limit: bad }).then(
        () => assert.unreachable(`limit ${bad} accepted`),
        (err: Error) => assert.match(err.message, /listRuns: limit must be a whole number/),
      );
    }
  });

  t('closeAbandonedRuns: a run whose heartbeat stopped, or whose process on this host is gone, is closed and loses its leases', async () => {
    const { store } = await fresh();
    const now = 1_000_000;
    await store.createRun({ id: 'stale', selection: '*', partitions: null, trigger: 'test', now: now - 200_000 });
    await store.createRun({ id: 'live', selection: '*', partitions: null, trigger: 'test', now: now - 1000 });
    assert.ok((await store.tryAcquireLease(A, 'p', 'stale', now - 200_000, 10_000_000)).acquired);
    await store.heartbeat('live', now, 30_000);
    const closed = await store.closeAbandonedRuns(now, 90_000);
    assert.equal(closed, ['stale']);
    const stale = (await store.getRun('stale'))!;
    assert.is(stale.status, 'failed');
    assert.match(stale.error!, /stopped without finishing/);
    assert.is((await store.getRun('live'))!.status, 'running', 'this process is alive and beat recently');
    assert.ok((await store.tryAcquireLease(A, 'p', 'live', now, 30_000)).acquired, 'the closed run let go of its lease');
    assert.equal(await store.closeAbandonedRuns(now, 90_000), [], 'nothing left to close');
  });

  // ---- events ----

  t('events: kept in order with their level, type and data; filtered by type, id and limit', async () => {
    const { store } = await withRun();
    await store.appendEvents([
      { runId: 'r1', ts: 1, level: 'info', type: 'run_started', message: 'run r1 started', data: { planned: { run: 2 } } },
      { runId: 'r1', ts: 2, level: 'debug', type: 'log', asset: A, partition: '2024-01-01', message: 'reading', data: { text: 'nul \u0000 and quotes "' } },
      { runId: 'r1', ts: 3, level: 'error', type: 'step_failed', asset: A, partition: '2024-01-02', message: 'failed' },
    ]);
    await store.appendEvents([]);
    const all = await store.events('r1');
    assert.equal(
      all.map((e) => [e.type, e.level, e.ts, e.asset, e.partition]),
      [
        ['run_started', 'info', 1, null, null],
        ['log', 'debug', 2, A, '2024-01-01'],
        ['step_failed', 'error', 3, A, '2024-01-02'],
      ],
    );
    assert.equal(all[1]!.data, { text: 'nul \u0000 and quotes "' });
    assert.is(all[2]!.data, null);
    assert.ok(all[0]!.id < all[1]!.id && all[1]!.id < all[2]!.id);
    assert.equal(
      (await store.events('r1', { types: ['step_failed', 'run_finished'] })).map((e) => e.ts),
      [3],
    );
    assert.equal(await store.events('r1', { types: [] }), []);
    assert.equal(
      (await store.events('r1', { afterId: all[0]!.id, limit: 1 })).map((e) => e.ts),
      [2],
    );
    assert.equal(await store.events('other'), []);
  });

  t('events: a row whose type or level this runtime does not know fails when read, naming the event, the run and the field', async () => {
    const { store } = await withRun();
    // As a newer build would write it: the store keeps what it is given, the reader checks.
    await store.appendEvents([{ runId: 'r1', ts: 1, level: 'info', type: 'step_paused' as never, message: 'paused' }]);
    const err = await store.events('r1').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isRuntimeError(err, 'store-record'), String(err));
    assert.match((err as Error).message, /^The type of event \d+ of run r1 is "step_paused", which is not one of run_started, /);
    const other = await withRun('r2');
    await other.store.appendEvents([{ runId: 'r2', ts: 1, level: 'fatal' as never, type: 'log', message: 'x' }]);
    const levelErr = await other.store.events('r2').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.match(String(levelErr), /The level of event \d+ of run r2 is "fatal", which is not one of debug, info, warn, error/);
  });

  // ---- leases ----

  t('leases: one holder at a time; the holder may retake it; it expires; only the holder releases it; finishing a run releases its leases', async () => {
    const { store } = await fresh();
    const now = 5_000_000;
    for (const id of ['a', 'b']) await store.createRun({ id, selection: '*', partitions: null, trigger: 'test', now });
    assert.equal(await store.tryAcquireLease(A, 'p1', 'a', now, 30_000), { acquired: true });
    assert.equal(await store.tryAcquireLease(A, 'p1', 'b', now + 1, 30_000), { acquired: false, holder: 'a', expiresAt: now + 30_000 });
    assert.ok((await store.tryAcquireLease(A, 'p2', 'b', now, 30_000)).acquired, 'another partition is free');
    assert.ok((await store.tryAcquireLease(A, 'p1', 'a', now + 10, 30_000)).acquired, 'the holder takes it again');
    await store.releaseLease(A, 'p1', 'b');
    assert.not.ok((await store.tryAcquireLease(A, 'p1', 'b', now + 20, 30_000)).acquired, 'only the holder releases');
    // No process holds a partition forever: past its expiry anyone takes it.
    assert.ok((await store.tryAcquireLease(A, 'p1', 'b', now + 10 + 30_001, 30_000)).acquired, 'an expired lease is taken over');
    await store.heartbeat('b', now + 40_000, 60_000);
    assert.equal(
      await store.tryAcquireLease(A, 'p2', 'a', now + 90_000, 30_000),
      { acquired: false, holder: 'b', expiresAt: now + 100_000 },
      'a heartbeat renews every lease of the run',
    );
    await store.finishRun('b', 'succeeded', {}, null, now + 90_000);
    assert.ok((await store.tryAcquireLease(A, 'p2', 'a', now + 90_001, 30_000)).acquired);
    assert.ok((await store.tryAcquireLease(A, 'p1', 'a', now + 90_001, 30_000)).acquired);
  });

  t('leases: of many racing takers on two connections, exactly one wins', async () => {
    const { store, location } = await fresh();
    const other = await again(location);
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, k) => (k % 2 ? store : other).tryAcquireLease(A, 'contended', `run-${k}`, now, 30_000).then((r) => ({ k, r }))),
    );
    const winners = results.filter((x) => x.r.acquired);
    assert.is(winners.length, 1);
    const holder = `run-${winners[0]!.k}`;
    for (const x of results) if (!x.r.acquired) assert.is(x.r.holder, holder);
  });

  // ---- materializations ----

  t('commit: the materialization, its inputs, checks and events in one go; the current pointer moves; events carry the new id', async () => {
    const { store } = await withRun();
    const up = await store.commitMaterialization(materializationOf(A, '2024-01-01', 'r1', 'aaaa'));
    const id = await store.commitMaterialization(
      materializationOf(B, '2024-01-01', 'r1', 'bbbb', {
        inputs: [{ asset: A, partition: '2024-01-01', materializationId: up, dataVersion: 'aaaa' as DataVersion }],
        checks: [
          { name: 'has_rows', blocking: true, passed: true, message: '', metadata: { rows: 24 } },
          { name: 'soft', blocking: false, passed: false, message: 'just a warning', metadata: {} },
        ],
        metadata: { rowCount: 24, columns: ['ts', 'lmp'], nested: { ok: true } },
      }),
    );
    assert.ok(id > up);
    const m = (await store.materialization(id))!;
    assert.equal(
      [m.asset, m.partition, m.runId, m.status, m.codeVersion, m.dataVersion, m.location],
      [B, '2024-01-01', 'r1', 'published', '1', 'bbbb', `${B}/2024-01-01/bbbb.parquet`],
    );
    assert.equal(m.metadata, { rowCount: 24, columns: ['ts', 'lmp'], nested: { ok: true } });
    assert.equal(await store.inputsOf(id), [{ asset: A, partition: '2024-01-01', materializationId: up, dataVersion: 'aaaa' }]);
    assert.equal(
      (await store.consumersOf(up)).map((c) => c.id),
      [id],
    );
    const checks = await store.checkResults(id);
    assert.equal(
      checks.map((c) => [c.name, c.blocking, c.passed, c.message, c.materializationId, c.asset]),
      [
        ['has_rows', true, true, '', id, B],
        ['soft', false, false, 'just a warning', id, B],
      ],
    );
    assert.equal(checks[0]!.metadata, { rows: 24 });
    const cur = (await store.current(B, '2024-01-01'))!;
    assert.equal([cur.id, cur.dataVersion, cur.runId, cur.location, cur.corrupt], [id, 'bbbb', 'r1', m.location, undefined]);
    assert.equal(cur.inputs, [{ asset: A, partition: '2024-01-01', materializationId: up, dataVersion: 'aaaa' }]);
    // The run's pending log line first, then the step's event tagged with its materialization.
    const events = await store.events('r1');
    assert.equal(
      events.map((e) => [e.type, e.asset]),
      [
        ['log', A],
        ['step_materialized', A],
        ['log', B],
        ['step_materialized', B],
      ],
    );
    assert.equal(events[3]!.data, { materializationId: id });
    assert.is(events[2]!.data, null);
  });

  t('commit: a blocked attempt is recorded but leaves the previous version current', async () => {
    const { store } = await withRun();
    const good = await store.commitMaterialization(materializationOf(A, '', 'r1', 'good'));
    const token = await store.changeToken();
    const blocked = await store.commitMaterialization(
      materializationOf(A, '', 'r1', 'bad', {
        status: 'blocked',
        location: null,
        checks: [{ name: 'has_rows', blocking: true, passed: false, message: 'no rows', metadata: {} }],
      }),
    );
    assert.is((await store.current(A, ''))!.id, good);
    assert.is((await store.materialization(blocked))!.status, 'blocked');
    assert.equal(
      (await store.checkResults(blocked)).map((c) => c.passed),
      [false],
    );
    assert.is.not(await store.changeToken(), token, 'a blocked attempt still changes the token');
    assert.equal(
      (await store.history(A)).map((h) => h.id),
      [blocked, good],
    );
  });

  t('commit: a failed commit records nothing at all, not even its log events; the previous version stays current', async () => {
    const { store } = await withRun();
    const good = await store.commitMaterialization(materializationOf(A, 'p', 'r1', 'good'));
    const before = (await store.events('r1')).length;
    // No such run: the database refuses the row, and the whole transaction with it.
    await store.commitMaterialization(materializationOf(A, 'p', 'no-such-run', 'orphan')).then(
      () => assert.unreachable('a materialization of an unknown run was recorded'),
      () => undefined,
    );
    assert.is((await store.current(A, 'p'))!.id, good);
    assert.is((await store.events('r1')).length, before);
    assert.equal(await store.events('no-such-run'), []);
    assert.equal(
      (await store.history(A)).map((h) => h.id),
      [good],
    );
    assert.equal(await store.checkConsistency(), []);
  });

  t('history, materializationsOfRun: newest first, by partition, paged by id', async () => {
    const { store } = await withRun();
    const ids: number[] = [];
    for (let k = 0; k < 6; k++) ids.push(await store.commitMaterialization(materializationOf(A, `p${k % 2}`, 'r1', `v${k}`)));
    assert.equal(
      (await store.history(A)).map((h) => h.id),
      [...ids].reverse(),
    );
    assert.equal(
      (await store.history(A, { partition: 'p1' })).map((h) => h.dataVersion),
      ['v5', 'v3', 'v1'],
    );
    assert.equal(
      (await store.history(A, { limit: 2, beforeId: ids[4] })).map((h) => h.id),
      [ids[3], ids[2]],
    );
    assert.equal(await store.history(B), []);
    assert.equal(
      (await store.materializationsOfRun('r1')).map((m) => m.id),
      ids,
    );
    assert.is(await store.materialization(ids[5]! + 1000), undefined);
  });

  t('snapshot: the current version of every partition, of all assets or of some, with inputs', async () => {
    const { store } = await withRun();
    const a1 = await store.commitMaterialization(materializationOf(A, 'p1', 'r1', 'a1'));
    await store.commitMaterialization(materializationOf(A, 'p1', 'r1', 'a1-old-then-new'));
    const a1b = (await store.current(A, 'p1'))!.id;
    const a2 = await store.commitMaterialization(materializationOf(A, 'p2', 'r1', 'a2'));
    const b = await store.commitMaterialization(
      materializationOf(B, '', 'r1', 'b', { inputs: [{ asset: A, partition: 'p1', materializationId: a1b, dataVersion: 'a1-old-then-new' as DataVersion }] }),
    );
    const all = await store.snapshot();
    assert.equal([...all.keys()].sort(), [A, B]);
    assert.equal([...all.get(A)!.entries()].map(([p, c]) => [p, c.id]).sort(), [
      ['p1', a1b],
      ['p2', a2],
    ]);
    assert.ok(a1b !== a1);
    assert.equal(
      all
        .get(B)!
        .get('')!
        .inputs.map((i) => i.materializationId),
      [a1b],
    );
    assert.equal(all.get(B)!.get('')!.id, b);
    const onlyB = await store.snapshot([B]);
    assert.equal([...onlyB.keys()], [B]);
    assert.equal((await store.snapshot([])).size, 0);
    assert.is(await store.current(B, 'nope'), undefined);
  });

  // ---- corrupt marks ----

  t('corrupt marks: only on the current version; shown on current and snapshot; cleared by a new version or by clearCorrupt', async () => {
    const { store } = await withRun();
    const old = await store.commitMaterialization(materializationOf(A, 'p', 'r1', 'old'));
    const cur = await store.commitMaterialization(materializationOf(A, 'p', 'r1', 'cur'));
    const token = await store.corruptionToken();
    const mark = {
      asset: A,
      partition: 'p',
      reason: 'mismatch' as const,
      detail: 'hashes to ffff',
      expected: 'cur' as DataVersion,
      found: 'ffff' as DataVersion,
      detectedBy: 'verify' as const,
      now: 42,
    };
    assert.is(await store.markCorrupt({ ...mark, materializationId: old }), false, 'a replaced version is not marked');
    assert.is(await store.corruptionToken(), token);
    assert.is(await store.markCorrupt({ ...mark, materializationId: cur }), true);
    assert.is.not(await store.corruptionToken(), token);
    const expected = {
      materializationId: cur,
      reason: 'mismatch',
      detail: 'hashes to ffff',
      expected: 'cur',
      found: 'ffff',
      detectedBy: 'verify',
      detectedAt: 42,
    };
    assert.equal((await store.current(A, 'p'))!.corrupt, expected);
    assert.equal((await store.snapshot([A])).get(A)!.get('p')!.corrupt, expected);
    assert.equal(await store.corruptMarks(), [{ asset: A, partition: 'p', mark: expected }]);
    assert.equal(await store.corruptMarks([B]), []);
    await store.clearCorrupt(A, 'p', old);
    assert.is((await store.corruptMarks()).length, 1, 'clearing another version changes nothing');
    await store.clearCorrupt(A, 'p', cur);
    assert.equal(await store.corruptMarks(), []);
    await store.markCorrupt({ ...mark, materializationId: cur, reason: 'missing', found: null, detectedBy: 'step' });
    assert.is((await store.corruptMarks([A]))[0]!.mark.reason, 'missing');
    await store.commitMaterialization(materializationOf(A, 'p', 'r1', 'repaired'));
    assert.equal(await store.corruptMarks(), [], 'a new good version clears the mark');
    assert.is((await store.current(A, 'p'))!.corrupt, undefined);
  });

  // ---- dynamic partitions ----

  t('dynamic partitions: added in order without duplicates, removed, listed per definition', async () => {
    const { store } = await fresh();
    assert.equal(await store.addDynamicPartitions('nodes', ['n3', 'n1', 'n3'], 1), ['n3', 'n1']);
    assert.equal(await store.addDynamicPartitions('nodes', ['n1', 'n2'], 2), ['n2']);
    assert.equal(await store.addDynamicPartitions('other', ['x'], 3), ['x']);
    assert.equal(await store.addDynamicPartitions('nodes', []), []);
    assert.equal(Object.fromEntries(await store.dynamicPartitionKeys()), { nodes: ['n3', 'n1', 'n2'], other: ['x'] });
    assert.equal(await store.removeDynamicPartitions('nodes', ['n1', 'zz', 'n1']), ['n1']);
    assert.equal(Object.fromEntries(await store.dynamicPartitionKeys()), { nodes: ['n3', 'n2'], other: ['x'] });
  });

  // ---- change detection ----

  t('tokens: the change token moves with materializations only; the activity token with anything recorded', async () => {
    const { store } = await fresh();
    const c0 = await store.changeToken();
    const a0 = await store.activityToken();
    await store.createRun({ id: 'r1', selection: '*', partitions: null, trigger: 'test', now: 1 });
    const a1 = await store.activityToken();
    assert.is.not(a1, a0, 'a run started');
    await store.appendEvents([{ runId: 'r1', ts: 2, level: 'info', type: 'log', message: 'hello' }]);
    const a2 = await store.activityToken();
    assert.is.not(a2, a1, 'an event');
    assert.is(await store.changeToken(), c0, 'no materialization yet');
    await store.commitMaterialization(materializationOf(A, 'p', 'r1', 'v1'));
    const c1 = await store.changeToken();
    assert.is.not(c1, c0);
    assert.is.not(await store.activityToken(), a2);
    const a3 = await store.activityToken();
    await store.addDynamicPartitions('nodes', ['n1']);
    assert.is.not(await store.activityToken(), a3, 'a dynamic partition');
    const a4 = await store.activityToken();
    await store.finishRun('r1', 'succeeded', {}, null, 3);
    assert.is.not(await store.activityToken(), a4, 'a run ended');
    assert.is(await store.changeToken(), c1);
  });

  t('subscribe: a listener hears of materializations committed through another connection, and of other activity', async () => {
    const { store, location } = await withRun();
    const writer = await again(location);
    const heard: StoreChange[] = [];
    const waitFor = (pred: (c: StoreChange) => boolean, what: string) =>
      new Promise<StoreChange>((resolve, reject) => {
        const timer = setInterval(() => {
          const found = heard.find(pred);
          if (found) {
            clearInterval(timer);
            clearTimeout(fail);
            resolve(found);
          }
        }, 20);
        const fail = setTimeout(() => {
          clearInterval(timer);
          reject(new Error(`no ${what} change heard within 20 s; heard ${JSON.stringify(heard)}`));
        }, 20_000);
      });
    const stop = await store.subscribe((c) => heard.push(c));
    const id = await writer.commitMaterialization(materializationOf(A, '2024-01-01', 'r1', 'v1'));
    const change = await waitFor((c) => c.kind === 'materialization', 'materialization');
    assert.equal(change, { kind: 'materialization', id, asset: A, partition: '2024-01-01', runId: 'r1', status: 'published' });
    await writer.createRun({ id: 'r2', selection: '*', partitions: null, trigger: 'test', now: Date.now() });
    await waitFor((c) => c.kind === 'activity', 'activity');
    await stop();
    const count = heard.length;
    await writer.commitMaterialization(materializationOf(A, '2024-01-02', 'r1', 'v2'));
    await new Promise((r) => setTimeout(r, 1200));
    assert.is(
      heard.filter((c) => c.kind === 'materialization').length,
      heard.slice(0, count).filter((c) => c.kind === 'materialization').length,
      'nothing heard after unsubscribing',
    );
  });

  t('subscribe: a materialization whose partition key is too long for a notification (9,000 bytes) is heard with its whole key', async () => {
    const { store, location } = await withRun();
    const writer = await again(location);
    const heard: StoreChange[] = [];
    const stop = await store.subscribe((c) => heard.push(c));
    const partition = `p-${'x'.repeat(9000)}`;
    const id = await writer.commitMaterialization(materializationOf(A, partition, 'r1', 'v1'));
    for (let waited = 0; !heard.some((c) => c.kind === 'materialization') && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await stop();
    assert.equal(
      heard.find((c) => c.kind === 'materialization'),
      { kind: 'materialization', id, asset: A, partition, runId: 'r1', status: 'published' },
      'the change heard within 20 s',
    );
  });

  // ---- prune ----

  t('pruneRecords: superseded old versions go with their inputs and checks; current ones and their lineage stay; a dry run only counts', async () => {
    const now = 100 * DAY;
    const { store } = await withRun('old-run', now - 60 * DAY);
    await store.createRun({ id: 'new-run', selection: '*', partitions: null, trigger: 'test', now: now - DAY });
    const at = (days: number) => ({ endedAt: now - days * DAY });
    // A: v1 (old, superseded, consumed by the current B) and v2 (old, superseded, unused) and v3 (current).
    const a1 = await store.commitMaterialization(materializationOf(A, 'p', 'old-run', 'a1', at(60)));
    const b = await store.commitMaterialization(
      materializationOf(B, 'p', 'old-run', 'b', { ...at(60), inputs: [{ asset: A, partition: 'p', materializationId: a1, dataVersion: 'a1' as DataVersion }] }),
    );
    const a2 = await store.commitMaterialization(materializationOf(A, 'p', 'old-run', 'a2', at(50)));
    // a2's file is shared with the current version (content-addressed: same data, same file).
    const a3 = await store.commitMaterialization(materializationOf(A, 'p', 'new-run', 'a3', { ...at(1), location: `${A}/p/a2.parquet` }));
    const a4old = await store.commitMaterialization(materializationOf(A, 'q', 'old-run', 'a4', at(45)));
    await store.commitMaterialization(materializationOf(A, 'q', 'new-run', 'a5', at(1)));
    await store.finishRun('old-run', 'succeeded', {}, null, now - 40 * DAY);
    const oldEvents = (await store.events('old-run')).length;
    const cutoff = now - 30 * DAY;

    const dry = await store.pruneRecords(cutoff, { dryRun: true });
    assert.equal([dry.materializations, dry.events], [2, oldEvents]);
    assert.equal(dry.files.map((f) => f.location).sort(), [`${A}/p/a2.parquet`, `${A}/q/a4.parquet`]);
    assert.ok(await store.materialization(a2), 'a dry run deletes nothing');

    const r = await store.pruneRecords(cutoff, { dryRun: false });
    assert.equal([r.materializations, r.events], [2, oldEvents]);
    assert.equal(r.files, [{ location: `${A}/q/a4.parquet`, asset: A, partition: 'q' }], 'a file the current version shares stays');
    assert.is(await store.materialization(a2), undefined);
    assert.is(await store.materialization(a4old), undefined);
    assert.equal(await store.checkResults(a2), []);
    assert.ok(await store.materialization(a1), 'the lineage of a current version stays');
    assert.ok(await store.materialization(b));
    assert.is((await store.current(A, 'p'))!.id, a3);
    assert.equal(await store.events('old-run'), []);
    assert.ok((await store.events('new-run')).length > 0, 'events of recent runs stay');
    assert.ok(await store.isRecorded(`${A}/p/a2.parquet`));
    assert.not.ok(await store.isRecorded(`${A}/q/a4.parquet`));
    assert.equal(await store.checkConsistency(), []);
    assert.equal(await store.pruneRecords(cutoff, { dryRun: false }), { materializations: 0, events: 0, files: [] });
  });

  // ---- schema ----

  t('schema: two processes opening a new store at once both succeed; a store from a newer runtime is refused', async () => {
    const location = await backend.fresh('race');
    const both = await Promise.all([openLineageStore(location), openLineageStore(location), openLineageStore(location)]);
    opened.push(...both);
    await both[0]!.createRun({ id: 'r1', selection: '*', partitions: null, trigger: 'test', now: 1 });
    assert.is((await both[1]!.getRun('r1'))!.id, 'r1');
    for (const s of opened.splice(0)) await s.close();
    await backend.bumpSchemaVersion(location);
    await openLineageStore(location).then(
      (s) => {
        opened.push(s);
        assert.unreachable('a newer schema was opened');
      },
      (err: Error) => assert.match(err.message, /newer than this runtime's .*Upgrade the runtime/),
    );
  });

  automationContract(t, fresh, again);
  runQueueContract(t, fresh, again, (location, sql) => backend.exec(location, sql));
  assetRecordsContract(t, fresh, again);

  // ---- crash and concurrency, with real processes ----

  t('SIGKILL while committing: every recorded materialization is whole, the current pointers are sound, the run is closed by the next process', async () => {
    const location = await backend.fresh('crash');
    const child = startStoreProcess('commit-loop', location, 'doomed');
    await child.ready;
    child.go();
    let seen = 0;
    await child.until((line) => (line.committed !== undefined ? ++seen >= 25 : false));
    child.process.kill('SIGKILL');
    await child.exited;

    const store = await again(location);
    assert.equal(await store.checkConsistency(), []);
    const recorded = await store.materializationsOfRun('doomed');
    assert.ok(recorded.length >= 25);
    // Each recorded materialization came with its check and its event, or not at all.
    const tagged = new Set((await store.events('doomed', { types: ['step_materialized'] })).map((e) => e.data!.materializationId));
    assert.equal([...tagged].sort(), recorded.map((m) => m.id).sort());
    for (const m of recorded.slice(-3)) assert.is((await store.checkResults(m.id)).length, 1);
    const snap = (await store.snapshot()).get('crash/a' as AssetKey)!;
    assert.is(snap.size, 10);
    const latest = new Map<string, number>();
    for (const m of recorded) latest.set(m.partition, Math.max(latest.get(m.partition) ?? 0, m.id));
    for (const [p, cur] of snap) assert.is(cur.id, latest.get(p), `${p} points at its last committed version`);
    assert.is((await store.getRun('doomed'))!.status, 'running', 'the killed run could not record its end');
    assert.equal(await store.closeAbandonedRuns(Date.now(), 90_000), ['doomed'], 'its process is gone from this host');
  });

  t('two processes claiming the same partitions: each materialized exactly once, and they met', async () => {
    const location = await backend.fresh('claim');
    const count = 40;
    const a = startStoreProcess('claim', location, 'run-a', count);
    const b = startStoreProcess('claim', location, 'run-b', count);
    await Promise.all([a.ready, b.ready]);
    a.go();
    b.go();
    await Promise.all([a.until((l) => l.done === true), b.until((l) => l.done === true)]);
    await Promise.all([a.exited, b.exited]);
    const store = await again(location);
    const history = await store.history('claim/a' as AssetKey, { limit: 1000 });
    const perPartition = new Map<string, number>();
    for (const m of history) perPartition.set(m.partition, (perPartition.get(m.partition) ?? 0) + 1);
    assert.is(perPartition.size, count);
    assert.ok(
      [...perPartition.values()].every((k) => k === 1),
      'no partition was materialized twice',
    );
    const lines = [...a.lines, ...b.lines];
    assert.ok(
      lines.some((l) => l.waiting !== undefined || l.skipped !== undefined),
      'the processes met and one deferred to the other',
    );
    assert.ok(a.lines.some((l) => l.materialized) && b.lines.some((l) => l.materialized), 'both did some of the work');
    assert.equal(await store.checkConsistency(), []);
  });

  t.run();
}

type Line = Record<string, unknown>;

/** A child process running test/store/fixtures/store-process.ts against one store. */
function startStoreProcess(mode: 'commit-loop' | 'claim', location: string, runId: string, count?: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/store/fixtures/store-process.ts', mode, location, runId, ...(count ? [String(count)] : [])],
    {
      cwd: PROJECT_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines: Line[] = [];
  const waiters: { pred: (l: Line) => boolean; resolve: () => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of waiters.splice(0)) {
      if (w.pred(line)) w.resolve();
      else waiters.push(w);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const until = (pred: (l: Line) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      if (lines.some(pred)) return resolve();
      waiters.push({ pred, resolve });
      void exited.then(({ code, signal }) =>
        reject(new Error(`store process ${mode} ${runId} ended (code ${code}, signal ${signal}) before it was expected to:\n${stderr}`)),
      );
    });
  return {
    process: child,
    lines,
    exited,
    until,
    ready: until((l) => l.ready === true),
    go: () => child.stdin!.write('go\n'),
  };
}

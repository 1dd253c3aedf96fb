// A batch policy for partitions that are cheap on their own: one step calls the asset's
// single-partition code once per member, in partition order. What such a partition costs is
// the runtime's fixed cost per step (a lease round, the live re-check against the store, a
// temp dir, a DuckDB connection), not its own work: a day of a source table is a few dozen
// rows. Grouping them into one step pays that once per batch. Each member's table output is
// written to Parquet as soon as its call returns (the same COPY as a single step's, so the
// same bytes and data version), so the next member's call may reuse the names of temp tables,
// views and files the previous one made; each member gets its own temp dir.
import { mkdir } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import type { AssetContext, BatchOutput, BatchPolicy, MaterializeOutput } from './definitions.ts';
import { copyQueryToParquet } from './duckdb.ts';
import type { PartitionKey } from './keys.ts';

export function eachPartition<R = unknown>(
  maxPartitions: number,
  materialize: (ctx: AssetContext<R>) => Promise<MaterializeOutput> | MaterializeOutput,
): BatchPolicy<R> {
  return {
    maxPartitions,
    async materialize(ctx) {
      const outputs = new Map<PartitionKey, BatchOutput>();
      for (const [index, member] of ctx.members.entries()) {
        ctx.signal.throwIfAborted();
        const tempDir = join(ctx.tempDir, `member-${index}`);
        try {
          await mkdir(tempDir);
          const memberCtx: AssetContext<R> = {
            asset: ctx.asset,
            runId: ctx.runId,
            resources: ctx.resources,
            log: ctx.log,
            signal: ctx.signal,
            duckdb: ctx.duckdb,
            forced: ctx.forced,
            records: ctx.records,
            tempDir,
            partition: member.partition,
            inputs: member.inputs,
            input: member.input,
            previous: member.previous,
          };
          const output = await materialize(memberCtx);
          outputs.set(member.partition, output && typeof output === 'object' && 'sql' in output ? await written(ctx, output, tempDir) : output);
        } catch (error) {
          // This member alone fails, with the error its single step would have had.
          outputs.set(member.partition, { error: error instanceof Error ? error : new Error(String(error)) });
        }
      }
      return outputs;
    },
  };
}

async function written(
  ctx: { duckdb(): Promise<DuckDBConnection> },
  output: { readonly sql: string; readonly metadata?: MaterializeOutput['metadata'] },
  tempDir: string,
): Promise<MaterializeOutput> {
  const parquetFile = join(tempDir, 'table.parquet');
  const rowCount = await copyQueryToParquet(await ctx.duckdb(), output.sql, parquetFile);
  return { parquetFile, metadata: { ...(output.metadata ?? {}), rowCount } };
}

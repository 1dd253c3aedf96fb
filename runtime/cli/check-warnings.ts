// The run's warnings (non-blocking checks that did not pass), grouped by asset and check for
// the end of the run's output: a source without load warns on every day of the load asset,
// and a user must read that once, with how many partitions and which, not find it among
// thousands of progress lines.
import type { RunEvent } from '../events.ts';

interface WarningGroup {
  readonly asset: string;
  readonly check: string;
  readonly partitions: string[];
  readonly firstPartition: string;
  readonly firstMessage: string;
}

export interface CheckWarnings {
  onEvent(e: RunEvent): void;
  /** One line per asset and check, in the order they first warned; empty when nothing warned. */
  summary(): string[];
}

export function checkWarnings(): CheckWarnings {
  const groups = new Map<string, WarningGroup>();
  return {
    onEvent(e) {
      if (e.type !== 'check_evaluated' || e.passed || e.blocking) return;
      const key = `${e.asset}\u0000${e.check}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { asset: e.asset, check: e.check, partitions: [], firstPartition: e.partition, firstMessage: e.message }));
      g.partitions.push(e.partition);
    },
    summary() {
      return [...groups.values()].map((g) => {
        const parts = [...g.partitions].sort();
        const where = parts.length === 1 ? (parts[0] === '' ? '' : ` [${parts[0]}]`) : ` on ${parts.length} partitions (${parts[0]} … ${parts.at(-1)})`;
        return `  ! ${g.asset}: check ${g.check} warned${where}: ${parts.length > 1 ? `${g.firstPartition}: ` : ''}${g.firstMessage}`;
      });
    },
  };
}

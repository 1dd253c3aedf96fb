// When the PJM pipeline runs on its own: declared once, here. The definitions carry it, and
// the Kubernetes CronJob must start the tick when it is due (infrastructure/checks/schedules.ts,
// run on every overlay by test/infrastructure/schedules.test.ts), so the two cannot drift.
import type { Schedule } from '../../runtime/index.ts';

/** PJM posts day-ahead results around 13:30 EPT; the pipeline runs an hour later, in market time (DST-correct). */
export const DAILY_AFTER_DA_PUBLICATION: Schedule = {
  name: 'daily_after_da_publication',
  cron: '30 14 * * *',
  timezone: 'America/New_York',
  selection: '*',
  description: 'PJM posts day-ahead results around 13:30 EPT; materialize what is missing or stale an hour later.',
};

export const PJM_SCHEDULES: readonly Schedule[] = [DAILY_AFTER_DA_PUBLICATION];

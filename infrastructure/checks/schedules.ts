// The definitions declare the schedules (assets/pjm/schedules.ts); a Kubernetes CronJob only
// starts `materialize tick` when one is due, and the tick decides what runs. This check says
// where the manifests and the schedules disagree: a CronJob that starts something other than
// the tick, a CronJob no schedule stands behind (its cron line or zone differs), a schedule no
// CronJob starts, and, for each pair, what the tick started at the CronJob's next firing
// actually requests (evaluated with the runtime's own schedule code): the schedule's selection.
import type { Schedule } from '../../runtime/index.ts';
import { DEFAULT_TIMEZONE, evaluateSchedule } from '../../runtime/automation/schedules.ts';
import { parseCron } from '../../runtime/automation/cron.ts';
import type { K8sObject } from './kustomize.ts';

/** What a CronJob says about when it runs and what its container is given. */
export interface CronJobSchedule {
  readonly name: string;
  readonly schedule: string;
  /** Kubernetes takes an unset timeZone as the controller's zone; the runtime's default is UTC. */
  readonly timeZone: string | undefined;
  readonly args: readonly string[];
}

/** The tick's catch-up window: a pod started within it of its minute still fires the due time. */
const CATCH_UP_MS = 3_600_000;
/** How late after its minute the check assumes a pod starts (image pull, scheduling). */
const POD_START_DELAY_MS = 90_000;

export function cronJobSchedules(objects: readonly K8sObject[]): CronJobSchedule[] {
  return objects
    .filter((o) => o.kind === 'CronJob')
    .map((o) => {
      const spec = (
        o as unknown as { spec: { schedule: string; timeZone?: string; jobTemplate: { spec: { template: { spec: { containers: { args?: string[] }[] } } } } } }
      ).spec;
      return { name: o.metadata.name, schedule: spec.schedule, timeZone: spec.timeZone, args: spec.jobTemplate.spec.template.spec.containers[0]?.args ?? [] };
    });
}

const sameCron = (a: string, b: string): boolean => a.trim().split(/\s+/).join(' ') === b.trim().split(/\s+/).join(' ');

/** Every disagreement, in words naming the CronJob or the schedule; empty when they agree. `from`: the instant to look for the next firing after. */
export function scheduleMismatches(cronJobs: readonly CronJobSchedule[], schedules: readonly Schedule[], from: Date = new Date()): string[] {
  const problems: string[] = [];
  const started = new Set<string>();
  for (const job of cronJobs) {
    if (job.args[0] !== 'tick' || job.args.length !== 1) {
      problems.push(
        `CronJob ${job.name} runs \`materialize ${job.args.join(' ')}\`, not \`materialize tick\`: what it materializes would not be a schedule of the definitions`,
      );
      continue;
    }
    const schedule = schedules.find((s) => sameCron(s.cron, job.schedule) && (s.timezone ?? DEFAULT_TIMEZONE) === (job.timeZone ?? DEFAULT_TIMEZONE));
    if (!schedule) {
      const declared = schedules.map((s) => `${s.name} "${s.cron}" ${s.timezone ?? DEFAULT_TIMEZONE}`).join(', ') || 'none';
      problems.push(
        `CronJob ${job.name} starts the tick at "${job.schedule}" ${job.timeZone ?? '(no timeZone)'}, when no schedule of the definitions is due (they declare: ${declared}); change assets/pjm/schedules.ts and the manifest together`,
      );
      continue;
    }
    started.add(schedule.name);
    const tz = schedule.timezone ?? DEFAULT_TIMEZONE;
    const fires = parseCron(`CronJob ${job.name}`, job.schedule, tz).nextRun(from);
    if (!fires) {
      problems.push(`CronJob ${job.name}: "${job.schedule}" never fires after ${from.toISOString()}`);
      continue;
    }
    const tick = evaluateSchedule(schedule, undefined, new Date(fires.getTime() + POD_START_DELAY_MS), CATCH_UP_MS);
    const selections = tick.requests.map((r) => r.selection);
    if (selections.length !== 1 || selections[0] !== schedule.selection) {
      problems.push(
        `CronJob ${job.name}: the tick it starts at ${fires.toISOString()} requests ${JSON.stringify(selections)}, not one run of schedule ${schedule.name}'s selection "${schedule.selection}"`,
      );
    }
  }
  for (const s of schedules) {
    if (!started.has(s.name))
      problems.push(
        `schedule ${s.name} ("${s.cron}" ${s.timezone ?? DEFAULT_TIMEZONE}) has no CronJob that starts the tick when it is due: add one (infrastructure/k8s/base/) or run \`materialize daemon\``,
      );
  }
  return problems;
}

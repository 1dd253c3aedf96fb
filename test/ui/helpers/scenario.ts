// The store the UI tests look at, built by real runs of the demo graph:
// readings fresh; one readings partition rematerialized with new data, so
// daily_mean[2024-01-03], summary and report are stale; flaky's latest attempt
// failed; later never materialized.
import { materialize, type Instance } from '../../../runtime/index.ts';
import { demoDefinitions, type DemoResources } from './defs.ts';
import { openInstance } from './server.ts';

export const STALE_DAY = '2024-01-03';

export async function demoScenario(): Promise<{ instance: Instance<DemoResources>; resources: DemoResources }> {
  const defs = demoDefinitions();
  const instance = await openInstance(defs);
  const run = (selection: string, extra: { partitions?: string; force?: boolean } = {}) => materialize(instance, { selection, trigger: 'test', ...extra });
  const first = await run('demo/readings,demo/daily_mean,demo/summary,demo/report,demo/flaky');
  if (first.status !== 'succeeded') throw new Error(`demo scenario: the first run ${first.status}: ${JSON.stringify(first.failures)}`);
  defs.resources.scale = 2;
  await run('demo/readings', { partitions: STALE_DAY, force: true });
  defs.resources.fail = true;
  await run('demo/flaky', { force: true });
  defs.resources.fail = false;
  return { instance, resources: defs.resources };
}

// Schedules are declared once, in the definitions (assets/pjm/schedules.ts): the definitions
// the CLI loads carry them, and every overlay's CronJob starts `materialize tick` exactly when
// one of them is due, so the tick materializes that schedule's selection
// (infrastructure/checks/schedules.ts). A changed cron line, zone or command on either side fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOverlay } from '../../infrastructure/checks/kustomize.ts';
import { cronJobSchedules, scheduleMismatches } from '../../infrastructure/checks/schedules.ts';
import { PJM_SCHEDULES } from '../../assets/pjm/schedules.ts';
import { pjmDefinitions } from '../../assets/definitions.ts';

const root = new URL('../..', import.meta.url).pathname;
const overlays = ['local', 'eks'] as const;
const jobsOf = Object.fromEntries(overlays.map((o) => [o, cronJobSchedules(buildOverlay(join(root, 'infrastructure/k8s/overlays', o)))]));
// A summer and a winter day: the zone's DST must not move the CronJob off the schedule.
const INSTANTS = [new Date('2026-07-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z')];

test('the definitions the CLI loads carry the schedules of assets/pjm/schedules.ts', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'schedules-'));
  try {
    const defs = await pjmDefinitions({}, { dataDir });
    assert.equal(defs.schedules, PJM_SCHEDULES);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

for (const overlay of overlays) {
  test(`${overlay}: every CronJob starts the tick when a declared schedule is due, and every schedule has one`, () => {
    assert.ok(jobsOf[overlay]!.length > 0, 'the overlay renders no CronJob');
    for (const at of INSTANTS) assert.equal(scheduleMismatches(jobsOf[overlay]!, PJM_SCHEDULES, at), [], `from ${at.toISOString()}`);
  });
}

test('the check fails on a CronJob whose cron line, zone or command drifted, and on a schedule without a CronJob', () => {
  const [job] = jobsOf.local!;
  const [schedule] = PJM_SCHEDULES;
  const at = INSTANTS[0];
  assert.match(scheduleMismatches([{ ...job!, schedule: '30 13 * * *' }], PJM_SCHEDULES, at).join('\n'), /no schedule of the definitions is due/);
  assert.match(scheduleMismatches([{ ...job!, timeZone: 'UTC' }], PJM_SCHEDULES, at).join('\n'), /no schedule of the definitions is due/);
  assert.match(scheduleMismatches([{ ...job!, args: ['pjm/model'] }], PJM_SCHEDULES, at).join('\n'), /not `materialize tick`/);
  assert.match(
    scheduleMismatches([job!], [...PJM_SCHEDULES, { ...schedule!, name: 'hourly', cron: '0 * * * *' }], at).join('\n'),
    /schedule hourly .* has no CronJob/,
  );
});

test.run();

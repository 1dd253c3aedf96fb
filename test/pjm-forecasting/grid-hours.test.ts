// The real hours of an EPT delivery day (`realHoursOfDay`), computed from EPT's offset per UTC
// hour, are exactly what stepping a zoned luxon DateTime through the day gives (the earlier
// implementation, kept here as the oracle): every day of 2014-2026, both DST changes of each year
// included, hour by hour.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DateTime } from 'luxon';
import { realHoursOfDay, type RealHour } from '../../assets/pjm/forecast/grid-hours.ts';

function withLuxon(day: string): RealHour[] {
  const start = DateTime.fromISO(day, { zone: 'America/New_York' }).startOf('day');
  const end = start.plus({ days: 1 }).startOf('day');
  const hours: RealHour[] = [];
  for (let t = start.toUTC(); t < end; t = t.plus({ hours: 1 })) {
    const local = t.setZone('America/New_York');
    hours.push({ tsUtc: t.toISO({ suppressMilliseconds: true })!, tsEpt: local.toISO({ suppressMilliseconds: true })!, gridHour: local.hour });
  }
  return hours;
}

test('every day of 2014-2026 has the hours luxon gives it, DST days included', () => {
  let short = 0;
  let long = 0;
  for (let t = Date.UTC(2014, 0, 1); t <= Date.UTC(2026, 11, 31); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const hours = realHoursOfDay(day);
    assert.equal(hours, withLuxon(day), day);
    if (hours.length === 23) short++;
    if (hours.length === 25) long++;
  }
  assert.is(short, 13, 'one spring-forward day a year');
  assert.is(long, 13, 'one fall-back day a year');
});

test('a fall-back day repeats grid hour 1 with both offsets; a spring-forward day has no grid hour 2', () => {
  const fall = realHoursOfDay('2018-11-04');
  assert.equal(
    fall.slice(1, 3).map((h) => [h.tsEpt, h.gridHour]),
    [
      ['2018-11-04T01:00:00-04:00', 1],
      ['2018-11-04T01:00:00-05:00', 1],
    ],
  );
  assert.not.ok(realHoursOfDay('2018-03-11').some((h) => h.gridHour === 2));
  assert.is(realHoursOfDay('2016-12-20')[0]!.tsUtc, '2016-12-20T05:00:00Z');
});

test('a string that is not a calendar day is refused, naming it', () => {
  for (const bad of ['2018-13-01', '2018-02-30', '20180101', 'soon', ''])
    assert.throws(() => realHoursOfDay(bad), /realHoursOfDay: .* is not a YYYY-MM-DD date/);
});

test.run();

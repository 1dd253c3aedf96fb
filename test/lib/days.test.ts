// lib/days: the project's one arithmetic of YYYY-MM-DD calendar days (partition keys, delivery
// days, training windows), across the month, year and leap-day edges and the DST changes that
// a local-time implementation would trip on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addDays, dayNumberOf, dayOfNumber } from '../../lib/days.ts';

test('day numbers count days since 1970-01-01, and go back to the same day', () => {
  assert.is(dayNumberOf('1970-01-01'), 0);
  assert.is(dayNumberOf('1969-12-31'), -1);
  assert.is(dayNumberOf('2017-03-14'), 17_239);
  for (const day of ['1969-12-31', '2016-02-29', '2016-12-31', '2025-03-09', '2025-11-02', '2100-03-01']) assert.is(dayOfNumber(dayNumberOf(day)), day);
  assert.is(dayNumberOf('2017-03-14') - dayNumberOf('2016-03-14'), 365, 'a year after a leap day has 365 days');
});

test('addDays crosses month, year and leap-day edges, forwards and back', () => {
  assert.is(addDays('2016-02-28', 1), '2016-02-29');
  assert.is(addDays('2016-02-29', 1), '2016-03-01');
  assert.is(addDays('2017-02-28', 1), '2017-03-01');
  assert.is(addDays('2016-12-31', 1), '2017-01-01');
  assert.is(addDays('2017-01-01', -1), '2016-12-31');
  assert.is(addDays('2025-05-01', -7), '2025-04-24');
  assert.is(addDays('2025-05-01', 0), '2025-05-01');
  assert.is(addDays('2016-01-01', 366), '2017-01-01');
});

test('the days of a DST change are days like any other (no zone, no 23- or 25-hour day)', () => {
  // America/New_York: 2025-03-09 has 23 hours, 2025-11-02 has 25; a calendar day is still one day.
  assert.is(addDays('2025-03-08', 1), '2025-03-09');
  assert.is(addDays('2025-03-09', 1), '2025-03-10');
  assert.is(addDays('2025-11-02', 1), '2025-11-03');
  assert.is(dayNumberOf('2025-11-03') - dayNumberOf('2025-11-02'), 1);
});

test('a string that is not a calendar day is named, not turned into "Invalid time value"', () => {
  assert.ok(Number.isNaN(dayNumberOf('not-a-day')));
  assert.throws(
    () => addDays('2025-13-01', 1),
    (e: Error) => e instanceof RangeError && e.message.includes('"2025-13-01" is not a YYYY-MM-DD calendar day'),
  );
  assert.throws(() => dayOfNumber(Number.NaN), RangeError);
});

test.run();

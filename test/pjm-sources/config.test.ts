// The PJM config: defaults per source, environment overrides, errors that name the variable and
// the accepted values, and a key that never shows when the config is printed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import { loadPjmConfig, describePjmConfig, PjmConfigError, daysInRange, EPFTOOLBOX_NODE } from '../../assets/pjm/config.ts';

const NOW = new Date('2026-11-27T12:00:00Z');

test('no environment: the bundled epftoolbox data, COMED DA, the whole range', () => {
  const c = loadPjmConfig({}, NOW);
  assert.is(c.source, 'epftoolbox');
  assert.equal(c.nodes, [EPFTOOLBOX_NODE]);
  assert.equal(c.markets, ['da']);
  assert.equal([c.start, c.end], ['2013-01-01', '2018-12-24']);
  assert.is(c.api.baseUrl, 'https://api.pjm.com/api/v1/');
  assert.is(c.api.requestsPerMinute, 6);
  assert.ok(c.epftoolboxDir.endsWith('data/epftoolbox/'));
});

test('overrides: live source with nodes, markets, range, base URL, timeout and rate limit', () => {
  const c = loadPjmConfig(
    {
      PJM_SOURCE: 'dataminer-api',
      PJM_API_KEY: 'k-123',
      PJM_NODES: '51217:EASTERN HUB, 51288',
      PJM_MARKETS: 'rt',
      PJM_START: '2025-05-01',
      PJM_END: '2025-05-03',
      PJM_API_BASE: 'http://127.0.0.1:9/api/v1',
      PJM_API_TIMEOUT_MS: '1500',
      PJM_API_RATE_LIMIT: '600',
    },
    NOW,
  );
  assert.equal(c.nodes, [
    { id: 51217, name: 'EASTERN HUB' },
    { id: 51288, name: null },
  ]);
  assert.equal(c.markets, ['rt']);
  assert.is(c.api.baseUrl, 'http://127.0.0.1:9/api/v1/');
  assert.equal([c.api.timeoutMs, c.api.requestsPerMinute, c.api.key], [1500, 600, 'k-123']);
  assert.equal(daysInRange(c.start, c.end), ['2025-05-01', '2025-05-02', '2025-05-03']);
});

test('PJM_REVISION_DAYS: the trailing days each run re-reads, 7 by default, 0 for none; anything else names the variable', () => {
  assert.is(loadPjmConfig({}, NOW).revisionDays, 7);
  assert.is(loadPjmConfig({ PJM_REVISION_DAYS: '0' }, NOW).revisionDays, 0);
  assert.is(loadPjmConfig({ PJM_REVISION_DAYS: '30' }, NOW).revisionDays, 30);
  for (const bad of ['-1', '2.5', 'week', '1e3']) {
    assert.throws(
      () => loadPjmConfig({ PJM_REVISION_DAYS: bad }, NOW),
      (e: unknown) => e instanceof PjmConfigError && /PJM_REVISION_DAYS/.test(e.message) && /whole number of days/.test(e.message),
      bad,
    );
  }
});

test('live source defaults to the PJM_API_DAYS (90) complete EPT days ending yesterday', () => {
  const c = loadPjmConfig({ PJM_SOURCE: 'dataminer-api', PJM_API_KEY: 'k' }, NOW);
  assert.equal([c.start, c.end], ['2026-08-29', '2026-11-26']);
  assert.match(c.spanOrigin, /90 EPT days ending yesterday, 2026-11-26 \(PJM_API_DAYS\)/);
  const week = loadPjmConfig({ PJM_SOURCE: 'dataminer-api', PJM_API_KEY: 'k', PJM_API_DAYS: '7' }, NOW);
  assert.equal([week.start, week.end], ['2026-11-20', '2026-11-26']);
  assert.equal(c.markets, ['da', 'rt']);
  assert.is(c.nodes.length, 12);
});

const fails = (env: Record<string, string>, variable: string, accepted: RegExp): void => {
  try {
    loadPjmConfig(env, NOW);
    assert.unreachable(`expected ${variable} to be rejected`);
  } catch (e) {
    assert.instance(e, PjmConfigError);
    assert.is((e as PjmConfigError).variable, variable);
    assert.match((e as Error).message, variable);
    assert.match((e as Error).message, accepted);
  }
};

test('bad values name the variable and the accepted values', () => {
  fails({ PJM_SOURCE: 'dataminer' }, 'PJM_SOURCE', /one of epftoolbox, dataminer-api, dataminer-csv/);
  fails({ PJM_MARKETS: 'da,spot' }, 'PJM_MARKETS', /list of da, rt/);
  fails({ PJM_MARKETS: 'rt' }, 'PJM_MARKETS', /'da' only with PJM_SOURCE=epftoolbox/);
  fails({ PJM_START: '2013-02-30' }, 'PJM_START', /YYYY-MM-DD/);
  fails({ PJM_START: '2014-01-02', PJM_END: '2014-01-01' }, 'PJM_END', /on or after PJM_START/);
  fails({ PJM_NODES: '51217,abc' }, 'PJM_NODES', /pnode ids/);
  fails({ PJM_SOURCE: 'dataminer-csv' }, 'PJM_CSV_DIR', /directory of Data Miner CSV exports/);
  fails({ PJM_SOURCE: 'dataminer-api' }, 'PJM_API_KEY', /subscription key/);
  fails({ PJM_API_RATE_LIMIT: '0' }, 'PJM_API_RATE_LIMIT', /positive number/);
  fails({ PJM_API_BASE: 'ftp://x' }, 'PJM_API_BASE', /http\(s\) URL/);
});

test('the key never appears when the config is printed, stringified or described', () => {
  const c = loadPjmConfig({ PJM_SOURCE: 'dataminer-api', PJM_API_KEY: 'super-secret-key' }, NOW);
  for (const text of [JSON.stringify(c), inspect(c, { depth: 5 }), JSON.stringify(describePjmConfig(c)), String(`${JSON.stringify({ config: c })}`)]) {
    assert.not.match(text, 'super-secret-key');
    assert.match(text, '<redacted>');
  }
  assert.is(c.api.key, 'super-secret-key');
});

test.run();

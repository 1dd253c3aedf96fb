import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AssetGraph, assetKey, defineAsset, defineDefinitions, isRuntimeError, resolveSelection } from '../../runtime/index.ts';

const asset = (key: string, deps: string[] = [], group?: string) => defineAsset({ key, deps, group, codeVersion: '1', materialize: () => ({ value: key }) });

const graphOf = (...assets: ReturnType<typeof asset>[]) => new AssetGraph(defineDefinitions({ assets }));

function throwsReason(fn: () => unknown, reason: string, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.ok(isRuntimeError(err), `expected a RuntimeError, got ${String(err)}`);
    assert.is((err as { reason: string }).reason, reason);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${reason} error`);
}

test('a cycle is an error that names the cycle', () => {
  throwsReason(() => graphOf(asset('a', ['c']), asset('b', ['a']), asset('c', ['b'])), 'cycle', /a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c/);
});

test('a missing dependency names both assets', () => {
  throwsReason(() => graphOf(asset('pjm/features', ['pjm/validatd'])), 'missing-dependency', /pjm\/features depends on pjm\/validatd/);
});

test('topological order puts upstream first, stably', () => {
  const g = graphOf(asset('d', ['b', 'c']), asset('c', ['a']), asset('b', ['a']), asset('a'));
  assert.equal(g.keys(), ['a', 'b', 'c', 'd']);
});

test('asset keys that would escape storage are rejected with a clear error', () => {
  for (const bad of ['../etc', '/abs', 'a/../b', 'a//b', 'a b', 'a/', '', 'ünï']) {
    throwsReason(() => assetKey(bad), 'invalid-asset-key', /Invalid asset key/);
  }
  assert.is(assetKey('pjm/raw/prices'), 'pjm/raw/prices');
});

test('two assets with one key are rejected', () => {
  throwsReason(() => defineDefinitions({ assets: [asset('a'), asset('a')] }), 'duplicate-asset', /Asset a is defined twice/);
});

const g = graphOf(
  asset('raw', [], 'ingest'),
  asset('processed', ['raw'], 'ingest'),
  asset('features', ['processed']),
  asset('model', ['features']),
  asset('report', ['model']),
  asset('other'),
);

test('selection: key, +key, key+, group:name, comma lists, *', () => {
  assert.equal(resolveSelection(g, 'features'), ['features']);
  assert.equal(resolveSelection(g, '+features'), ['raw', 'processed', 'features']);
  assert.equal(resolveSelection(g, 'features+'), ['features', 'model', 'report']);
  assert.equal(resolveSelection(g, '+model+'), ['raw', 'processed', 'features', 'model', 'report']);
  assert.equal(resolveSelection(g, 'group:ingest'), ['raw', 'processed']);
  assert.equal(resolveSelection(g, 'other, raw'), ['other', 'raw']);
  assert.equal(resolveSelection(g, '*').length, 6);
  assert.equal(resolveSelection(g, '').length, 6);
});

test('an unknown key suggests the closest names', () => {
  throwsReason(() => resolveSelection(g, 'featurs'), 'unknown-asset', /Unknown asset "featurs". Did you mean "features"/);
  throwsReason(() => resolveSelection(g, 'group:nope'), 'invalid-selection', /No asset is in group "nope". Groups: default, ingest/);
  throwsReason(() => resolveSelection(g, 'raw,,model'), 'invalid-selection', /empty term/);
});

test.run();

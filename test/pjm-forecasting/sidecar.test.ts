// The model sidecar read through its declared format (assets/pjm/model/sidecar.ts): the UI's
// model page and the server's model loader both read it so, and a sidecar that does not match
// says which materialization and which field is wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readModelSidecar, readSidecarDescription, servedFamilyOf, SidecarError } from '../../assets/pjm/forecasting.ts';
import { ModelArtifactError, sidecarOf } from '../../serving/model/artifact.ts';
import { modelViews } from '../../serving/ui-api/model-view.ts';

// Shaped as modelFiles (assets/pjm/model/persist.ts) writes it, with two members; a NaN of the learning curve is null once stored as JSON.
const description = {
  format: 'pjm-lmp-xgb/1',
  market: 'da',
  featureNames: ['price_lag1_h', 'hour', 'load_forecast'],
  members: [
    {
      variant: { name: 'change_lag1', target: 'change_lag1' },
      file: 'm.json',
      rounds: 3,
      bestIteration: 2,
      learningCurve: { train: [0.9, 0.5, null], valid: [1, 0.7, 0.65] },
      importance: [
        ['price_lag1_h', 30],
        ['hour', 10],
      ],
    },
    {
      variant: { name: 'level', target: 'level' },
      file: 'm.level.json',
      rounds: 2,
      bestIteration: null,
      learningCurve: { train: [0.8, 0.6], valid: [0.9, 0.8] },
      importance: [['load_forecast', 20]],
    },
  ],
  window: { firstDay: '2013-01-01', lastDay: '2016-12-26', validationFirstDay: '2016-10-01', trainRows: 33000, validationRows: 2200 },
  metrics: { mae: 3.1 },
  trainedAt: '2026-11-27T07:00:00.000Z',
};
const full = {
  ...description,
  target: { column: 'target', description: 'price', transform: { kind: 'asinh-median', byNode: { '1': { median: 30, scale: 10 } } } },
  ensemble: 'mean of member price forecasts ($/MWh)',
  settings: {
    variants: [{ name: 'change_lag1', target: 'change_lag1' }],
    params: {},
    maxRounds: 10,
    earlyStoppingRounds: 3,
    validationDays: 7,
    refitOnWholeWindow: false,
  },
};

/** `v` with `path` (dot-separated, numbers index arrays) set to `value`. */
function withField(v: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(v) as Record<string, unknown>;
  const keys = path.split('.');
  let at: any = copy;
  for (const k of keys.slice(0, -1)) at = at[k];
  if (value === undefined) delete at[keys[keys.length - 1]!];
  else at[keys[keys.length - 1]!] = value;
  return copy;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

test('a good sidecar reads back as written, and the model page shows it', () => {
  assert.equal(readSidecarDescription(description, 'pjm/model materialization 7'), description);
  assert.equal(readModelSidecar(full, 'pjm/model materialization 7'), full);
  const { model, modelProblem } = modelViews({ sidecar: description } as never, 'pjm/model materialization 7');
  assert.is(modelProblem, undefined);
  assert.equal(
    model!.members.map((m) => [m.name, m.rounds, m.bestIteration]),
    [
      ['change_lag1', 3, 2],
      ['level', 2, null],
    ],
  );
  assert.equal(model!.members[0]!.learningCurve.train, [0.9, 0.5, null]);
  assert.equal(model!.importance, [
    { feature: 'price_lag1_h', gain: 15 },
    { feature: 'load_forecast', gain: 10 },
    { feature: 'hour', gain: 5 },
  ]);
  assert.is(model!.window!.validationFirstDay, '2016-10-01');
});

test('a bad sidecar fails naming the materialization and the field; the model page says so instead of a guessed view', () => {
  const where = 'pjm/model materialization 7';
  const bad = withField(description, 'members.1.rounds', '2');
  const err = errorOf(() => readSidecarDescription(bad, where));
  assert.instance(err, SidecarError);
  assert.is(
    err.message,
    `${where}: the model sidecar's field members[1].rounds is "2", not a number. Rematerialize pjm/model (assets/pjm/model writes sidecars of format pjm-lmp-xgb/1).`,
  );
  const views = modelViews({ sidecar: bad } as never, where);
  assert.is(views.model, undefined);
  assert.is(views.modelProblem, err.message);

  assert.match(
    errorOf(() => readSidecarDescription(withField(description, 'format', 'pjm-lmp-xgb/2'), where)).message,
    /field format is "pjm-lmp-xgb\/2", not one of "pjm-lmp-xgb\/1"/,
  );
  assert.match(
    errorOf(() => readSidecarDescription(withField(description, 'members.0.importance.1', ['hour']), where)).message,
    /field members\[0\]\.importance\[1\]\[1\] is missing/,
  );
  assert.match(errorOf(() => readSidecarDescription(withField(description, 'window', undefined), where)).message, /field window is missing/);
  // The page needs only the description; predicting needs the target transform and the settings too.
  assert.match(errorOf(() => readModelSidecar(description, where)).message, /field target is missing/);
  assert.match(
    errorOf(() => readModelSidecar(withField(full, 'target.transform.kind', 'log'), where)).message,
    /field target\.transform\.kind is "log", not one of "asinh-median"/,
  );
});

test('the server refuses a bad sidecar with the same words, as a ModelArtifactError (the old model keeps serving)', () => {
  assert.equal(sidecarOf({ sidecar: full } as never, 7), full);
  const err = errorOf(() => sidecarOf({ sidecar: withField(full, 'members.0.variant.target', 'spread') } as never, 7));
  assert.instance(err, ModelArtifactError);
  assert.match(err.message, /^pjm\/model materialization 7: the model sidecar's field members\[0\]\.variant\.target is "spread", not one of "level"/);
  assert.match(errorOf(() => sidecarOf({ rows: 3 }, 7)).message, /has no model sidecar/);
});

// Format 2 (a model serving LEAR): format 1 plus the families, as familiesSidecar (assets/pjm/model/served.ts) writes them.
const withFamilies = {
  ...full,
  format: 'pjm-lmp/2',
  servedFamily: 'ensemble',
  families: {
    choice: 'ensemble',
    weights: { xgboost: 0.5, lear: 0.5 },
    combination: 'the plain mean',
    lear: {
      file: 'm.lear.json',
      windows: [56, 84],
      nodes: [{ nodeId: 1, exogenousColumns: ['load_sys_h'], windows: [{ window: 56, firstDay: '2016-11-01', lastDay: '2016-12-26' }] }],
    },
  },
};

test('format 2 reads with its families; format 1 still reads, as XGBoost alone', () => {
  const where = 'pjm/model materialization 8';
  assert.equal(readModelSidecar(withFamilies, where), withFamilies);
  assert.is(servedFamilyOf(readModelSidecar(withFamilies, where)), 'ensemble');
  assert.equal(readSidecarDescription(withFamilies, where), withFamilies);
  // An old sidecar, written before families were served: XGBoost alone, with or without servedFamily.
  assert.is(servedFamilyOf(readModelSidecar(full, where)), 'xgboost');
  assert.is(servedFamilyOf(readModelSidecar({ ...full, servedFamily: 'xgboost' }, where)), 'xgboost');
  assert.equal(sidecarOf({ sidecar: full } as never, 8), full);
  assert.equal(sidecarOf({ sidecar: withFamilies } as never, 8), withFamilies);
});

test('a format-2 sidecar without its families, or a format-1 one with them, fails naming the field', () => {
  const where = 'pjm/model materialization 8';
  assert.match(errorOf(() => readModelSidecar(withField(withFamilies, 'families', undefined), where)).message, /field families is missing/);
  assert.match(errorOf(() => readModelSidecar(withField(withFamilies, 'families.lear.windows', []), where)).message, /field families\.lear\.windows is empty/);
  assert.match(
    errorOf(() => readModelSidecar(withField(withFamilies, 'families.lear.nodes.0.windows.0.lastDay', 5), where)).message,
    /field families\.lear\.nodes\[0\]\.windows\[0\]\.lastDay is 5, not a string/,
  );
  assert.match(
    errorOf(() => readModelSidecar(withField(withFamilies, 'servedFamily', 'lear'), where)).message,
    /field servedFamily is "lear", not one of "ensemble"/,
  );
  assert.match(
    errorOf(() => readModelSidecar({ ...full, families: withFamilies.families }, where)).message,
    /field families is set in a pjm-lmp-xgb\/1 sidecar/,
  );
});

test.run();

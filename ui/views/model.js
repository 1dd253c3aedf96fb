// Views of the model and its backtest on the asset page: the comparison table
// against the naive forecast and the published benchmarks, MAE by hour, a
// forecast-versus-actual chart for a chosen node and week (with the forecast's
// 50 % and 90 % intervals when the backtest has them), the learning curve,
// and feature importance. Each part appears only when the asset's metadata has it.
import { api } from '../api.js';
import { barChart, lineChart } from '../charts.js';
import { esc, messageOf, num } from '../dom.js';

const PALETTE = ['#3b7ddd', '#e07b39', '#2e9d5b', '#9b59b6', '#c0392b', '#16a085'];

function comparisonTable(rows) {
  return `<table class="comparison" data-testid="backtest-table"><thead><tr><th>Forecast</th><th>MAE</th><th>RMSE</th><th>sMAPE %</th><th>rMAE</th></tr></thead><tbody>${rows
    .map(
      (r, i) =>
        `<tr class="${i === 0 ? 'ours' : ''}"><td>${esc(r.name)}</td><td>${num(r.mae)}</td><td>${num(r.rmse)}</td><td>${num(r.smape, 2)}</td><td>${num(r.rmae)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

async function forecastChart(box, key, query, signal) {
  const chartBox = box.querySelector('.fva-chart');
  let fva;
  try {
    fva = await api.predictions(key, query);
  } catch (err) {
    chartBox.innerHTML = `<p class="muted">No forecast-versus-actual data: ${esc(messageOf(err))}</p>`;
    return;
  }
  if (signal.aborted) return;
  const nodeSel = box.querySelector('select[name=node]');
  const weekSel = box.querySelector('select[name=week]');
  nodeSel.innerHTML = fva.nodes.map((n) => `<option${n === fva.node ? ' selected' : ''}>${esc(n)}</option>`).join('');
  weekSel.innerHTML = fva.weeks.map((w) => `<option${w === fva.week ? ' selected' : ''}>${esc(w)}</option>`).join('');
  const labels = fva.hours.map((h) => (h.hour === 0 ? h.day.slice(5) : ''));
  chartBox.innerHTML = lineChart({
    testId: 'forecast-vs-actual',
    title: `Forecast versus actual, node ${fva.node}, week of ${fva.week}`,
    yLabel: '$/MWh',
    xLabels: labels,
    xTickEvery: 1,
    series: [
      { name: 'actual', color: '#222', values: fva.hours.map((h) => h.actual) },
      { name: 'forecast', color: '#3b7ddd', values: fva.hours.map((h) => h.forecast) },
      { name: 'naive', color: '#aaa', dash: true, values: fva.hours.map((h) => h.naive) },
    ],
    // The forecast's intervals where the backtest has its quantiles (none in its warm-up days).
    bands: fva.hours.some((h) => h.interval90 || h.interval50)
      ? [
          {
            name: '90 % interval',
            color: '#9dbcf0',
            lower: fva.hours.map((h) => h.interval90?.[0] ?? null),
            upper: fva.hours.map((h) => h.interval90?.[1] ?? null),
          },
          {
            name: '50 % interval',
            color: '#3b7ddd',
            lower: fva.hours.map((h) => h.interval50?.[0] ?? null),
            upper: fva.hours.map((h) => h.interval50?.[1] ?? null),
          },
        ]
      : [],
  });
  chartBox.dataset.points = String(fva.hours.length);
}

/** Validation MAE per round of each member, the first member's training MAE dashed, its best round marked. */
function learningCurveChart(curves) {
  const rounds = Math.max(0, ...curves.map((m) => m.learningCurve.valid.length));
  const best = curves[0].bestIteration;
  return lineChart({
    testId: 'learning-curve',
    title: 'Learning curve',
    yLabel: 'MAE (z space)',
    height: 240,
    markers: best !== null ? [{ index: best, label: `best round ${best}` }] : [],
    xLabels: Array.from({ length: rounds }, (_, i) => String(i)),
    series: curves.flatMap((m, i) => [
      { name: `${m.name} valid`, color: PALETTE[i % PALETTE.length], values: m.learningCurve.valid },
      ...(i === 0 ? [{ name: `${m.name} train`, color: PALETTE[i % PALETTE.length], dash: true, values: m.learningCurve.train }] : []),
    ]),
  });
}

export function renderModelViews(box, asset, signal) {
  const { model, backtest, modelProblem } = asset.views;
  if (!model && !backtest && !modelProblem) {
    box.remove();
    return;
  }
  let backtestHtml = '';
  let modelHtml = modelProblem ? `<section class="model"><h2>Model</h2><p class="error" data-testid="model-problem">${esc(modelProblem)}</p></section>` : '';
  if (backtest) {
    const from = asset.views.backtestAsset;
    backtestHtml = `<section class="backtest"><h2>Backtest${backtest.testFirstDay ? ` ${esc(backtest.testFirstDay)} to ${esc(backtest.testLastDay)}` : ''}${from ? ` <span class="muted small">from <a href="#/assets/${encodeURIComponent(from)}">${esc(from)}</a></span>` : ''}</h2>
      <p class="muted">${backtest.hours ? `${backtest.hours.toLocaleString()} forecast hours` : ''}${backtest.retrains ? `, ${backtest.retrains} retrains` : ''}${backtest.market ? `, market ${esc(backtest.market)}` : ''}. MAE and RMSE in $/MWh; rMAE is MAE over the naive forecast's MAE.</p>
      ${comparisonTable(backtest.comparison)}
      ${
        backtest.byHour.length
          ? `<h3>MAE by hour (EPT)</h3>${lineChart({
              testId: 'mae-by-hour',
              title: 'MAE by hour',
              yLabel: '$/MWh',
              xLabels: backtest.byHour.map((h) => String(h.hour)),
              xTickEvery: 2,
              height: 220,
              series: [
                { name: 'model', color: '#3b7ddd', values: backtest.byHour.map((h) => h.mae) },
                { name: 'naive', color: '#aaa', dash: true, values: backtest.byHour.map((h) => h.naiveMae) },
              ],
            })}`
          : ''
      }
      <h3>Forecast versus actual</h3>
      <div class="fva"><label>Node <select name="node"></select></label> <label>Week <select name="week"></select></label><div class="fva-chart"><p class="muted">Loading…</p></div></div>
    </section>`;
  }
  if (model) {
    const curves = model.members.filter((m) => m.learningCurve.valid.length > 0);
    modelHtml = `<section class="model"><h2>Model</h2>
      <p class="muted">${model.market ? `Market ${esc(model.market)}. ` : ''}${model.featureCount ? `${model.featureCount} features. ` : ''}${model.window ? `Trained on ${esc(model.window.firstDay ?? '?')} to ${esc(model.window.lastDay ?? '?')}${model.window.validationFirstDay ? ` (validation from ${esc(model.window.validationFirstDay)})` : ''}. ` : ''}${model.members.length ? `${model.members.length} member${model.members.length > 1 ? 's' : ''}: ${model.members.map((m) => `${esc(m.name)} (${m.rounds ?? '?'} rounds)`).join(', ')}.` : ''}${model.served ? ` ${esc(model.served)}` : ''}</p>
      ${curves.length ? `<h3>Learning curve (validation MAE per round)</h3>${learningCurveChart(curves)}` : ''}
      ${model.importance.length ? `<h3>Feature importance (total gain, mean over members)</h3>${barChart({ testId: 'feature-importance', title: 'Feature importance', items: model.importance.slice(0, 20).map((f) => ({ label: f.feature, value: f.gain })) })}` : ''}
      ${model.metrics ? `<details><summary>Metrics</summary><pre>${esc(JSON.stringify(model.metrics, null, 2))}</pre></details>` : ''}
    </section>`;
  }
  // A model page: the model first, then how it did.
  box.innerHTML = modelHtml + backtestHtml;
  if (backtest) {
    const fva = box.querySelector('.fva');
    const source = asset.views.backtestAsset ?? asset.key;
    const reload = () =>
      forecastChart(fva, source, { node: fva.querySelector('select[name=node]').value, week: fva.querySelector('select[name=week]').value }, signal);
    fva.querySelector('select[name=node]').onchange = reload;
    fva.querySelector('select[name=week]').onchange = reload;
    void forecastChart(fva, source, {}, signal);
  }
}

// Live accuracy on the scoring asset's page (pjm/forecast_score): the served forecasts scored
// against validated prices — the rolling 7- and 28-day figures, a chart of each day's MAE
// (with the naive forecast's) and of its 50 % / 90 % interval coverage, and the kept forecasts
// not scored yet, with why.
import { api } from '../api.js';
import { lineChart } from '../charts.js';
import { esc, messageOf, num } from '../dom.js';

const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '—');

function rollingTable(rolling) {
  return `<table class="comparison" data-testid="score-rolling"><thead><tr><th>Window</th><th>Ending</th><th>Days scored</th><th>Hours</th><th>MAE</th><th>rMAE</th><th>50 % coverage</th><th>90 % coverage</th></tr></thead><tbody>${rolling
    .map(
      (r) =>
        `<tr data-window="${r.windowDays}"><td>${r.windowDays} days</td><td>${esc(r.endDay)}</td><td>${r.scoredDays}</td><td>${r.hours}</td><td class="mae">${num(r.mae)}</td><td>${num(r.rmae)}</td><td>${pct(r.coverage50)}</td><td>${pct(r.coverage90)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/** Fills `box` with the live scores (the asset page calls it for the scoring asset). */
export async function renderScoreViews(box, signal) {
  let view;
  try {
    view = await api.forecastScores();
  } catch (err) {
    box.innerHTML = `<p class="muted">No live scores: ${esc(messageOf(err))}</p>`;
    return;
  }
  if (signal.aborted) return;
  const scored = view.days.filter((d) => d.hours > 0);
  const naiveMae = (d) => (typeof d.mae === 'number' && typeof d.rmae === 'number' && d.rmae > 0 ? d.mae / d.rmae : null);
  box.innerHTML = `<section class="scores" data-testid="live-scores"><h2>Live accuracy of what was served</h2>
    <p class="muted">Each kept forecast (pjm/forecast's, and /predict's for a day whose prices were not in yet) scored once the day's validated prices arrived; the headline counts each node's last-issued forecast. rMAE is MAE over the backtest's naive forecast's MAE on the same hours.</p>
    ${view.rolling.length ? rollingTable(view.rolling) : '<p class="muted" data-testid="score-rolling">Nothing scored yet.</p>'}
    ${
      scored.length
        ? `<h3>MAE by day</h3>${lineChart({
            testId: 'score-mae-chart',
            title: 'MAE of the served forecasts by day',
            yLabel: '$/MWh',
            height: 220,
            xLabels: scored.map((d) => d.day.slice(5)),
            series: [
              { name: 'served forecast', color: '#3b7ddd', dots: true, values: scored.map((d) => d.mae) },
              { name: 'naive', color: '#aaa', dash: true, dots: true, values: scored.map(naiveMae) },
            ],
          })}`
        : ''
    }
    ${
      scored.some((d) => d.coverage90 !== null)
        ? `<h3>Interval coverage by day</h3>${lineChart({
            testId: 'score-coverage-chart',
            title: 'Share of hours inside the forecast intervals by day',
            yLabel: 'share of hours',
            height: 200,
            xLabels: scored.map((d) => d.day.slice(5)),
            series: [
              { name: '90 % interval', color: '#2e9d5b', dots: true, values: scored.map((d) => d.coverage90) },
              { name: '50 % interval', color: '#e07b39', dots: true, values: scored.map((d) => d.coverage50) },
            ],
          })}`
        : ''
    }
    ${
      view.pending.length
        ? `<h3>Not scored yet</h3><ul data-testid="score-pending">${view.pending
            .slice(0, 20)
            .map((p) => `<li>${esc(p.day)} node ${p.nodeId} (${esc(p.market)}, ${esc(p.origin)}): ${esc(p.reason)}</li>`)
            .join('')}</ul>`
        : ''
    }
  </section>`;
}

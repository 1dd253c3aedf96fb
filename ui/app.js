// The single-page app: a hash router that mounts one view at a time. Each view
// is a module with `render(container, params, signal)`; the signal aborts when
// the user navigates away, so live streams and timers stop with their view.
import { esc, messageOf } from './dom.js';

const routes = [
  { pattern: /^#?\/?$/, view: 'graph', load: () => import('./views/graph.js') },
  {
    pattern: /^#\/assets\/([^/?]+)\/partitions(?:\?(.*))?$/,
    view: 'graph',
    load: () => import('./views/partitions.js'),
    params: (m) => ({ key: decodeURIComponent(m[1]), query: new URLSearchParams(m[2] ?? '') }),
  },
  { pattern: /^#\/assets\/([^/?]+)$/, view: 'graph', load: () => import('./views/asset.js'), params: (m) => ({ key: decodeURIComponent(m[1]) }) },
  { pattern: /^#\/materializations\/(\d+)$/, view: 'graph', load: () => import('./views/lineage.js'), params: (m) => ({ id: Number(m[1]) }) },
  { pattern: /^#\/runs\/?$/, view: 'runs', load: () => import('./views/runs.js') },
  { pattern: /^#\/runs\/([^/?]+)$/, view: 'runs', load: () => import('./views/run.js'), params: (m) => ({ id: decodeURIComponent(m[1]) }) },
];

let current;

async function route() {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const hash = location.hash || '#/';
  const container = document.getElementById('view');
  if (!container) throw new Error('index.html has no #view element to render into.');
  const match = routes.map((r) => ({ r, m: r.pattern.exec(hash) })).find((x) => x.m);
  for (const a of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-nav]')))
    a.classList.toggle('active', match?.r.view === a.dataset.nav);
  if (!match) {
    container.innerHTML = `<p class="error">No page at ${esc(hash)}. <a href="#/">Back to the graph</a>.</p>`;
    return;
  }
  try {
    const mod = await match.r.load();
    if (controller.signal.aborted) return;
    // Each view takes the params its own route makes (the routes table pairs them).
    await mod.render(container, /** @type {any} */ (match.r.params ? match.r.params(match.m) : {}), controller.signal);
  } catch (err) {
    if (controller.signal.aborted) return;
    container.innerHTML = `<p class="error">${esc(messageOf(err))}</p>`;
    console.error(err);
  }
}

window.addEventListener('hashchange', route);
route();

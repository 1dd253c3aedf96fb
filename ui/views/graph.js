// The asset graph: every asset a node, laid out left to right, coloured by
// status, with a partition health bar on partitioned assets (click it to list
// the partitions); wheel to zoom, drag to pan. Built for 1,000 assets: the
// layout takes milliseconds (layout.js), nodes are drawn as one SVG string, and
// labels are hidden when zoomed far out. Refreshes itself, every second while
// a run is in progress.
import { api } from '../api.js';
import { ago, countsText, esc, freshnessChip, healthBar, links, STATUS_COLORS, STATUS_ORDER, statusChip } from '../dom.js';
import { layoutGraph } from '../layout.js';
import { materializeButtons, wireMaterializeButtons } from './materialize.js';

const W = 220;
const H = 52;

function shortLabel(key) {
  return key.length <= 30 ? key : `…${key.slice(-29)}`;
}

function nodeMarkup(node, pos, selected) {
  const c = node.counts;
  const partitioned = node.partitions !== null;
  const sub = partitioned
    ? `${node.status} · ${c.fresh}/${c.total} fresh`
    : `${node.status}${node.lastMaterializedAt ? ` · ${ago(node.lastMaterializedAt)}` : ''}`;
  let bar = '';
  if (partitioned) {
    let x = 12;
    const width = W - 24;
    bar = `<g class="hbar" data-action="partitions"><rect class="hbar-bg" x="12" y="${H - 11}" width="${width}" height="7"/>`;
    for (const s of STATUS_ORDER) {
      if (!c[s]) continue;
      const w = (width * c[s]) / Math.max(1, c.total);
      bar += `<rect x="${x.toFixed(1)}" y="${H - 11}" width="${w.toFixed(1)}" height="7" fill="${STATUS_COLORS[s]}"><title>${c[s]} ${s}</title></rect>`;
      x += w;
    }
    bar += `</g>`;
  }
  // A missed deadline is a badge in the corner: the status colour already says fresh or stale.
  const late =
    node.freshness?.state === 'late'
      ? `<rect class="late-badge" x="${W - 38}" y="5" width="32" height="14" rx="7"/><text class="late-badge-text" x="${W - 31}" y="15">late</text>`
      : '';
  return `<g class="node status-${node.status}${selected ? ' selected' : ''}" data-key="${esc(node.key)}" data-status="${node.status}"${node.freshness ? ` data-freshness="${esc(node.freshness.state)}"` : ''} transform="translate(${pos.x},${pos.y})">
<title>${esc(node.key)} — ${esc(node.status)}${node.causes.length ? `: ${esc(node.causes[0].text)}` : ''}${node.freshness ? `\n${esc(node.freshness.reason)}` : ''}</title>
<rect class="box" width="${W}" height="${H}" rx="6"/><rect class="stripe" width="6" height="${H}" rx="2" fill="${STATUS_COLORS[node.status]}"/>
<text class="title" x="14" y="19">${esc(shortLabel(node.key))}</text><text class="sub" x="14" y="${partitioned ? 34 : 38}">${esc(sub)}</text>${bar}${late}</g>`;
}

/** From the right side of `a` through the waypoints to the left side of `b`: curves between columns, straight across them. */
function edgePath(a, b, waypoints) {
  const points = [{ x: a.x + W, y: a.y + H / 2 }, ...waypoints, { x: b.x, y: b.y + H / 2 }];
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i - 1];
    const q = points[i];
    if (Math.abs(q.y - p.y) < 0.5) d += `L${q.x},${q.y}`;
    else {
      const dx = Math.max(20, (q.x - p.x) / 2);
      d += `C${p.x + dx},${p.y} ${q.x - dx},${q.y} ${q.x},${q.y}`;
    }
  }
  return d;
}

export async function render(container, _params, signal) {
  const t0 = performance.now();
  let graph = await api.graph();
  if (signal.aborted) return;
  container.innerHTML = `
    <section class="graph-page">
      <div class="toolbar">
        <input id="graph-search" type="search" placeholder="Find an asset…" list="graph-keys" aria-label="Find an asset">
        <datalist id="graph-keys"></datalist>
        <button id="graph-fit" type="button">Fit</button>
        <span id="graph-totals" class="totals"></span>
        <span id="graph-runs" class="muted"></span>
      </div>
      <div class="graph-wrap">
        <svg id="graph-svg" data-testid="asset-graph" xmlns="http://www.w3.org/2000/svg">
          <defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#98a2b3"/></marker></defs>
          <g class="viewport"><g class="edges"></g><g class="nodes"></g></g>
        </svg>
        <aside id="graph-panel" class="panel" hidden></aside>
      </div>
    </section>`;
  const svg = container.querySelector('#graph-svg');
  const viewport = svg.querySelector('.viewport');
  const edgesLayer = svg.querySelector('.edges');
  const nodesLayer = svg.querySelector('.nodes');
  const panel = container.querySelector('#graph-panel');

  let layout;
  let layoutSignature = '';
  let selected = null;
  let view = { x: 0, y: 0, k: 1 };
  /** A status to single out (the others are dimmed), chosen in the legend. */
  let only = null;

  const applyView = () => {
    viewport.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);
    svg.classList.toggle('far', view.k < 0.45);
  };
  const fit = () => {
    const box = svg.getBoundingClientRect();
    const k = Math.min(1, (box.width - 40) / Math.max(1, layout.width), (box.height - 40) / Math.max(1, layout.height));
    view = { k, x: (box.width - layout.width * k) / 2, y: Math.max(20, (box.height - layout.height * k) / 2) };
    applyView();
  };

  const draw = () => {
    const signature = graph.nodes.map((n) => n.key).join('|') + '#' + graph.edges.length;
    if (signature !== layoutSignature) {
      layout = layoutGraph(graph.nodes, graph.edges, { nodeWidth: W, nodeHeight: H });
      layoutSignature = signature;
      edgesLayer.innerHTML = graph.edges
        .map((e, i) => {
          const a = layout.positions.get(e.from);
          const b = layout.positions.get(e.to);
          return a && b
            ? `<path class="edge" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="${edgePath(a, b, layout.routes[i])}" marker-end="url(#arrow)"><title>${esc(e.from)} → ${esc(e.to)} (${esc(e.mapping)})</title></path>`
            : '';
        })
        .join('');
      container.querySelector('#graph-keys').innerHTML = graph.nodes.map((n) => `<option value="${esc(n.key)}">`).join('');
      fit();
    }
    nodesLayer.innerHTML = graph.nodes.map((n) => nodeMarkup(n, layout.positions.get(n.key), n.key === selected)).join('');
    highlightEdges();
    container.querySelector('#graph-totals').innerHTML = STATUS_ORDER.filter((s) => graph.totals[s])
      .map(
        (s) =>
          `<button type="button" class="legend-item${s === only ? ' on' : ''}" data-status="${s}" title="Show only ${s} assets (click again for all)"><i style="background:${STATUS_COLORS[s]}"></i>${graph.totals[s]} ${s}</button>`,
      )
      .join('');
    container.querySelector('#graph-runs').innerHTML = graph.activeRuns.length
      ? `${graph.activeRuns.length} run${graph.activeRuns.length > 1 ? 's' : ''} in progress: ${graph.activeRuns.map((r) => `<a href="${links.run(r.id)}">${esc(r.id)}</a>`).join(', ')}`
      : '';
    if (selected) updatePanel();
  };

  const panelSummary = (node) => `
      <h2><a href="${links.asset(node.key)}" data-testid="open-asset">${esc(node.key)}</a></h2>
      <p>${statusChip(node.status)} ${freshnessChip(node.freshness)} ${node.partitions ? esc(node.partitions) : 'unpartitioned'}</p>
      ${node.freshness ? `<p class="freshness" data-testid="freshness">Deadline: ${esc(node.freshness.reason)}</p>` : ''}
      ${node.description ? `<p class="muted">${esc(node.description)}</p>` : ''}
      ${node.partitions ? `<p>${healthBar(node.counts, 'data-action="partitions" title="List the partitions"')} ${esc(countsText(node.counts))}</p>` : ''}
      ${node.causes.length ? `<h3>Why</h3><ul class="causes">${node.causes.map((c) => `<li>${esc(c.text)}${node.partitions ? ` <span class="muted">(${c.partitions} partition${c.partitions === 1 ? '' : 's'})</span>` : ''}</li>`).join('')}${node.moreCauses ? `<li class="muted">and ${node.moreCauses} more</li>` : ''}</ul>` : ''}
      <p class="muted">Last materialized ${esc(ago(node.lastMaterializedAt))}${node.dataVersion ? `, data version <code>${esc(node.dataVersion.slice(0, 8))}</code>` : ''}</p>`;

  // The panel's summary follows each refresh; its actions, run progress and partition list stay.
  const updatePanel = () => {
    const node = graph.nodes.find((n) => n.key === selected);
    const summary = panel.querySelector('.panel-summary');
    if (node && summary) summary.innerHTML = panelSummary(node);
  };

  // The selected asset's dependencies and dependents stand out.
  const highlightEdges = () => {
    for (const e of edgesLayer.querySelectorAll('.edge.hl')) e.classList.remove('hl');
    if (!selected) return;
    for (const e of edgesLayer.querySelectorAll('.edge')) if (e.dataset.from === selected || e.dataset.to === selected) e.classList.add('hl');
  };

  const showPanel = (key, partitions) => {
    const node = graph.nodes.find((n) => n.key === key);
    if (!node) return;
    panel.hidden = false;
    panel.innerHTML = `
      <button class="close" type="button" aria-label="Close">×</button>
      <div class="panel-summary">${panelSummary(node)}</div>
      ${materializeButtons(node.key)}
      <div class="panel-partitions"></div>`;
    panel.querySelector('.close').onclick = () => {
      selected = null;
      panel.hidden = true;
      draw();
    };
    wireMaterializeButtons(panel, signal, { onStarted: () => refresh(true), onFinished: () => refresh(true) });
    if (partitions) void listPartitions(node.key);
  };

  const listPartitions = async (key, status) => {
    const target = panel.querySelector('.panel-partitions');
    target.innerHTML = '<p class="muted">Loading partitions…</p>';
    const view = await api.partitions(key, { limit: 100, ...(status ? { status } : {}) });
    const filters = STATUS_ORDER.filter((s) => view.counts[s] > 0)
      .map((s) => `<button type="button" class="filter${s === status ? ' on' : ''}" data-filter="${s}">${view.counts[s]} ${s}</button>`)
      .join('');
    target.innerHTML = `<h3>Partitions</h3><p>${filters} <a href="${links.partitions(key, status)}">all</a></p>
      <table class="partitions" data-testid="partition-list"><tbody>${view.partitions
        .map(
          (p) =>
            `<tr><td>${p.materializationId ? `<a href="${links.lineage(p.materializationId)}">${esc(p.partition)}</a>` : esc(p.partition)}</td><td>${statusChip(p.status)}</td><td class="muted small">${esc(p.causes.join('; '))}</td></tr>`,
        )
        .join('')}</tbody></table>${view.matching > view.partitions.length ? `<p class="muted">${view.matching - view.partitions.length} more…</p>` : ''}`;
    for (const b of target.querySelectorAll('[data-filter]')) b.onclick = () => listPartitions(key, b.dataset.filter === status ? undefined : b.dataset.filter);
  };

  // Clicks: a node selects it, its health bar lists its partitions, a double click opens its page.
  nodesLayer.addEventListener('click', (ev) => {
    if (moved) return;
    const g = ev.target.closest('.node');
    if (!g) return;
    selected = g.dataset.key;
    for (const n of nodesLayer.querySelectorAll('.node.selected')) n.classList.remove('selected');
    g.classList.add('selected');
    highlightEdges();
    showPanel(selected, Boolean(ev.target.closest('[data-action="partitions"]')));
  });
  nodesLayer.addEventListener('dblclick', (ev) => {
    const g = ev.target.closest('.node');
    if (g) location.hash = links.asset(g.dataset.key);
  });
  panel.addEventListener('click', (ev) => {
    if (ev.target.closest('[data-action="partitions"]') && selected) void listPartitions(selected);
  });

  // Zoom around the cursor, pan by dragging.
  svg.addEventListener(
    'wheel',
    (ev) => {
      ev.preventDefault();
      const r = svg.getBoundingClientRect();
      const px = ev.clientX - r.left;
      const py = ev.clientY - r.top;
      const k = Math.min(3, Math.max(0.05, view.k * Math.exp(-ev.deltaY * 0.0015)));
      view = { k, x: px - ((px - view.x) * k) / view.k, y: py - ((py - view.y) * k) / view.k };
      applyView();
    },
    { passive: false },
  );
  /** @type {{ x: number, y: number, vx: number, vy: number } | null} */
  let drag = null;
  let moved = false;
  svg.addEventListener('pointerdown', (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
    moved = false;
  });
  window.addEventListener(
    'pointermove',
    (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x;
      const dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
      view = { ...view, x: drag.vx + dx, y: drag.vy + dy };
      applyView();
    },
    { signal },
  );
  window.addEventListener('pointerup', () => (drag = null), { signal });

  container.querySelector('#graph-fit').onclick = fit;
  container.querySelector('#graph-totals').addEventListener('click', (ev) => {
    const item = ev.target.closest('[data-status]');
    if (!item) return;
    only = only === item.dataset.status ? null : item.dataset.status;
    svg.dataset.only = only ?? '';
    draw();
  });
  container.querySelector('#graph-search').addEventListener('change', (ev) => {
    const key = ev.target.value.trim();
    const pos = layout.positions.get(key);
    if (!pos) return;
    const r = svg.getBoundingClientRect();
    view = { k: 1, x: r.width / 2 - pos.x - W / 2, y: r.height / 2 - pos.y - H / 2 };
    applyView();
    selected = key;
    draw();
    showPanel(key, false);
  });

  draw();
  svg.dataset.renderedMs = String(Math.round(performance.now() - t0));
  svg.dataset.ready = 'true';
  // The first frame with the graph on screen (the benchmark reads it): two frames after drawing.
  requestAnimationFrame(() => requestAnimationFrame(() => (svg.dataset.paintedAt = String(Math.round(performance.now())))));

  // Live refresh: every second while runs are in progress, else every 10 s.
  let timer;
  const refresh = async (soon = false) => {
    clearTimeout(timer);
    if (signal.aborted) return;
    try {
      graph = await api.graph();
      if (signal.aborted) return;
      draw();
    } catch (err) {
      console.warn('graph refresh failed', err);
    }
    timer = setTimeout(refresh, soon || graph.activeRuns.length > 0 ? 1000 : 10_000);
  };
  timer = setTimeout(refresh, graph.activeRuns.length > 0 ? 1000 : 10_000);
  signal.addEventListener('abort', () => clearTimeout(timer));
}

// The JSON API client: fetch with errors turned into messages people can act
// on, and the bearer token for mutating calls when the server requires one
// (kept in localStorage, asked for on the first 401).

const TOKEN_KEY = 'pjm-ui-api-token';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token && method !== 'GET') headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message = json?.error?.message ?? `${method} ${path} answered ${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message, json);
  }
  return json;
}

export const api = {
  graph: () => request('GET', '/api/graph'),
  asset: (key) => request('GET', `/api/assets/${encodeURIComponent(key)}`),
  partitions: (key, query = {}) => request('GET', `/api/assets/${encodeURIComponent(key)}/partitions?${new URLSearchParams(query)}`),
  predictions: (key, query = {}) => request('GET', `/api/assets/${encodeURIComponent(key)}/predictions?${new URLSearchParams(query)}`),
  lineage: (id) => request('GET', `/api/materializations/${id}/lineage`),
  runs: (query = {}) => request('GET', `/api/runs?${new URLSearchParams(query)}`),
  queue: () => request('GET', '/api/queue'),
  forecastScores: () => request('GET', '/api/forecast-scores'),
  run: (id) => request('GET', `/api/runs/${encodeURIComponent(id)}`),
  runEvents: (id, afterId) => request('GET', `/api/runs/${encodeURIComponent(id)}/events?afterId=${afterId}`),
  materialize: (selection, mode, partitions) => mutate('/api/materialize', { selection, mode, ...(partitions ? { partitions } : {}) }),
  cancelRun: (id) => mutate(`/api/runs/${encodeURIComponent(id)}/cancel`, undefined),
};

/** A POST; on 401 asks for the token once, keeps it, and retries. */
async function mutate(path, body) {
  try {
    return await request('POST', path, body);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    const token = window.prompt('This server requires an API token to start or stop runs (SERVING_API_TOKEN). Token:');
    if (!token) throw err;
    localStorage.setItem(TOKEN_KEY, token.trim());
    return request('POST', path, body);
  }
}

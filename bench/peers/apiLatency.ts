// The training API's latency as a client sees it, for any API with the seed's shape (ours and the peer):
// POST /trainmodel/ {meter_id, meter_type} -> {task_id}, GET /trainmodel/status/{task_id}.
//
// `pollers` clients poll task statuses (each: GET, wait for the answer, pause `pollIntervalMs`, again)
// while `posts` POSTs go one after another (and for at least 5 s); every request is timed from send to the
// end of its body.
import type { Meter } from './meterFixture.js';
import { quantile } from '../stats.js';

export interface ApiLatency {
  posts: number;
  postP50Ms: number;
  postP95Ms: number;
  gets: number;
  getP50Ms: number;
  getP95Ms: number;
  getsPerSecond: number;
  pollers: number;
  pollIntervalMs: number;
}

const MIN_WINDOW_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round2 = (x: number) => Math.round(x * 100) / 100;

async function timed(url: string, init: RequestInit): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

async function post(baseUrl: string, meter: Meter, headers: Record<string, string>): Promise<{ ms: number; taskId: string }> {
  const r = await timed(`${baseUrl}/trainmodel/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ meter_id: meter.meterId, meter_type: meter.meterType }),
  });
  if (r.status >= 300) throw new Error(`POST /trainmodel/ answered ${r.status}: ${r.body}`);
  return { ms: r.ms, taskId: (JSON.parse(r.body) as { task_id: string }).task_id };
}

export async function measureTrainingApi(opts: {
  baseUrl: string;
  /** Meters to POST: the first few start the tasks the pollers poll, one POST each after that. */
  meters: Meter[];
  posts: number;
  pollers: number;
  pollIntervalMs: number;
  headers?: Record<string, string>;
}): Promise<ApiLatency> {
  const { baseUrl, meters, posts, pollers, pollIntervalMs, headers = {} } = opts;
  const warmup = 5;
  if (meters.length < warmup + posts) throw new Error(`measureTrainingApi needs ${warmup + posts} meters, got ${meters.length}`);
  // Unmeasured: connections, the server's first-request work, and tasks to poll.
  const taskIds: string[] = [];
  for (const m of meters.slice(0, warmup)) taskIds.push((await post(baseUrl, m, headers)).taskId);

  let stop = false;
  const getMs: number[] = [];
  const poll = async (i: number) => {
    const url = `${baseUrl}/trainmodel/status/${taskIds[i % taskIds.length]}`;
    while (!stop) {
      const r = await timed(url, { headers });
      if (r.status !== 200) throw new Error(`GET status answered ${r.status}: ${r.body}`);
      getMs.push(r.ms);
      if (pollIntervalMs > 0) await sleep(pollIntervalMs);
    }
  };
  const polling = Array.from({ length: pollers }, (_, i) => poll(i));
  await sleep(Math.max(1000, 2 * pollIntervalMs)); // every poller going before the POSTs are timed
  const gets0 = getMs.length;
  const t0 = performance.now();
  const postMs: number[] = [];
  try {
    for (const m of meters.slice(warmup, warmup + posts)) postMs.push((await post(baseUrl, m, headers)).ms);
    // Enough GETs for a p95 even when the POSTs were quick.
    while (performance.now() - t0 < MIN_WINDOW_MS) await sleep(50);
  } finally {
    stop = true;
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(polling);
  const during = getMs.slice(gets0);
  return {
    posts: postMs.length,
    postP50Ms: round2(quantile(postMs, 0.5)),
    postP95Ms: round2(quantile(postMs, 0.95)),
    gets: during.length,
    getP50Ms: round2(quantile(during, 0.5)),
    getP95Ms: round2(quantile(during, 0.95)),
    getsPerSecond: round2(during.length / seconds),
    pollers,
    pollIntervalMs,
  };
}

// The HTTP client of the `energy` scenario: a child process of the benchmark that sends GET requests one after another
// over one keep-alive connection and times each from the call to the last byte of the body, as wrk or autocannon
// would. Run in the benchmark's own process, next to the server under test, the client's work (undici, the copy of
// the body, JSON.parse of a 0.5 MB answer) ran on the server's thread and its garbage in the server's heap, and was
// counted as the server's latency. After the clock stops: the status is checked (anything but 200 ends the run with
// the start of the body), and the last body is parsed to count its items.

export interface HttpJob {
  /** Requests sent first and not timed (JIT, connection pool, plan cache). */
  warmup: number;
  /** The timed requests, in this order. */
  urls: string[];
  headers: Record<string, string>;
}

export interface HttpReport {
  type: 'result';
  /** Per timed request: request → last byte of the body, ms. */
  ms: number[];
  /** Items in the last answer (`items` of the JSON body). */
  items: number;
}

export type HttpMessage = HttpReport | { type: 'error'; message: string };

async function get(url: string, headers: Record<string, string>): Promise<{ ms: number; body: ArrayBuffer }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}: ${Buffer.from(body).toString('utf8', 0, Math.min(300, body.byteLength))}`);
  return { ms, body };
}

async function run(job: HttpJob): Promise<HttpReport> {
  if (job.urls.length === 0) throw new Error('http-client: no URLs');
  for (let w = 0; w < job.warmup; w++) await get(job.urls[w % job.urls.length]!, job.headers);
  const ms: number[] = [];
  let last: ArrayBuffer | undefined;
  for (const url of job.urls) {
    const r = await get(url, job.headers);
    ms.push(r.ms);
    last = r.body;
  }
  const parsed = JSON.parse(Buffer.from(last!).toString('utf8')) as { items?: unknown[] };
  return { type: 'result', ms, items: parsed.items?.length ?? 0 };
}

const send = (m: HttpMessage): Promise<void> => new Promise((resolve) => (process.send ? process.send(m, () => resolve()) : resolve()));

process.on('disconnect', () => process.exit(0)); // the parent went away: never linger
process.once('message', (job: HttpJob) => {
  run(job).then(
    async (report) => {
      await send(report);
      process.exit(0);
    },
    async (error: unknown) => {
      await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    },
  );
});

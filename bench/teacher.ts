/**
 * Teacher client throughput against a local server that answers instantly with a valid report.
 * The server runs in its own process and, like any real server, parses each request's JSON. Its raw capacity is measured first with a tight loop of
 * plain keep-alive HTTP requests at high concurrency; then the teacher client (provider, retries,
 * limits; cache bypassed) runs at concurrency 1, 8 and 32. Printed as ratios to the raw capacity.
 * Last line: RESULT teacher ratio=<ratio at 32>.
 *
 * The client code is the compiled dist/ (what `finesec` runs; the npm script builds it first):
 * tsx wraps every closure it transforms in a naming helper (about 0.25 us each), which would
 * charge the teacher client for a cost that the shipped code does not have.
 *
 *   npm run bench:teacher [-- --rounds 9 --slice 0.4]
 */
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';

const dist = new URL('../dist/teacher/', import.meta.url);
if (!existsSync(new URL('providers/openai.js', dist))) {
  console.error('bench/teacher.ts needs the compiled client: run npm run build first');
  process.exit(2);
}
const { realClock } = (await import(new URL('clock.js', dist).href)) as typeof import('../src/teacher/clock.js');
const { PriceTable } = (await import(new URL('cost.js', dist).href)) as typeof import('../src/teacher/cost.js');
const { runPool } = (await import(new URL('limits.js', dist).href)) as typeof import('../src/teacher/limits.js');
const { Budget, MeteredProvider } = (await import(new URL('metered.js', dist).href)) as typeof import('../src/teacher/metered.js');
const { OpenAiProvider } = (await import(new URL('providers/openai.js', dist).href)) as typeof import('../src/teacher/providers/openai.js');
const { renderPrompt, templateFor } = (await import(new URL('prompts/index.js', dist).href)) as typeof import('../src/teacher/prompts/index.js');

const report = {
  verdict: 'vulnerable',
  findings: [
    {
      cwe: 'CWE-121',
      title: 'Stack buffer overflow in copy',
      severity: 'high',
      location: { function: 'copy', start_line: 3, end_line: 3 },
      fragment: 'strcpy(buf, src);',
      root_cause: 'The source length is never checked against the 16-byte buffer.',
      trigger: 'src longer than 15 characters.',
      impact: 'Stack memory corruption; possible code execution.',
      remediation: 'Bound the copy by sizeof buf and terminate the string.',
      evidence: [
        { line: 2, step: 'buf has 16 bytes on the stack' },
        { line: 3, step: 'strcpy copies src without a bound' },
      ],
      confidence: 0.9,
    },
  ],
  reasoning: ['src is caller-controlled', 'strcpy does not bound the copy', 'buf can overflow'],
};

function serve(): void {
  const body = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 0,
    model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(report) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 600, completion_tokens: 250, total_tokens: 850 },
  });
  const server = http.createServer((req, res) => {
    // Like any real server it reads and parses the request; the answer itself is ready-made.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let ok = false;
      try {
        ok = Array.isArray((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages?: unknown }).messages);
      } catch {
        ok = false;
      }
      const answer = ok ? body : '{"error":{"message":"messages are required"}}';
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
  });
  process.on('disconnect', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

async function startServerProcess(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { port, child };
}

/** CPU seconds used so far by a process (Linux /proc), to show which side is the bottleneck. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

interface Measured {
  rate: number;
  clientCpu: number;
  serverCpu: number;
}

/** Completed requests per second over `seconds`, `concurrency` loops each sending one request at a time. */
async function measure(concurrency: number, seconds: number, once: () => Promise<void>, serverPid: number): Promise<Measured> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  const client0 = process.cpuUsage();
  const server0 = cpuSeconds(serverPid);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await once();
        done++;
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const client = process.cpuUsage(client0);
  return { rate: done / wall, clientCpu: (client.user + client.system) / 1e6 / wall, serverCpu: (cpuSeconds(serverPid) - server0) / wall };
}

/** Like measure, but through runPool (what `finesec teach` uses) over an endless item source. */
async function measurePool(concurrency: number, seconds: number, once: () => Promise<void>, serverPid: number): Promise<Measured> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  const client0 = process.cpuUsage();
  const server0 = cpuSeconds(serverPid);
  await runPool(
    (function* () {
      while (performance.now() < deadline) yield done;
    })(),
    concurrency,
    async () => {
      await once();
      done++;
    },
  );
  const wall = (performance.now() - started) / 1000;
  const client = process.cpuUsage(client0);
  return { rate: done / wall, clientCpu: (client.user + client.system) / 1e6 / wall, serverCpu: (cpuSeconds(serverPid) - server0) / wall };
}

function medianBy(ms: Measured[]): Measured {
  return [...ms].sort((a, b) => a.rate - b.rate)[Math.floor(ms.length / 2)]!;
}

/**
 * The same request bytes the teacher sends, from a bare keep-alive loop: the server's capacity for
 * this workload. Request options name hostname, protocol and port as the teacher's transport does:
 * measured here, `{ host, port: number }` options made this loop stall for milliseconds per request
 * against a server that reads the body, which would overstate every ratio.
 */
function rawRequester(port: number, payload: string): { once: () => Promise<void>; close: () => void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        { hostname: '127.0.0.1', port: String(port), protocol: 'http:', path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { once, close: () => agent.destroy() };
}

async function main(): Promise<void> {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const rounds = arg('--rounds', 9);
  const slice = arg('--slice', 0.4);
  const { port, child } = await startServerProcess();
  try {
    const code = ['void copy(const char *src) {', '  char buf[16];', '  strcpy(buf, src);', '  puts(buf);', '}'].join('\n');
    const prompt = renderPrompt(templateFor(false), { code, language: 'c', label: null, cwes: [], flaw_lines: [] });
    const options = { temperature: 0.2, maxTokens: 1024 };
    const provider = new OpenAiProvider({
      model: 'bench',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      timeoutMs: 30_000,
      maxRetries: 2,
      prices: new PriceTable({ bench: { input: 1, output: 2 } }),
      clock: realClock,
    });
    const client = new MeteredProvider(provider, { clock: realClock, prices: new PriceTable({ bench: { input: 1, output: 2 } }), budget: new Budget(undefined) });
    let failures = 0;
    const teacherOnce = async (): Promise<void> => {
      const r = await client.callApi(prompt, {}, options);
      if (r.error || !r.output) failures++;
    };
    const raw = rawRequester(port, provider.requestBody(prompt, options));
    const rawConcurrency = 64;
    // Warm up both paths (sockets, JIT).
    const pid = child.pid!;
    await measure(rawConcurrency, 0.5, raw.once, pid);
    await measure(32, 0.5, teacherOnce, pid);
    // Other work on the machine changes the rates from second to second, so the configurations are
    // measured in short interleaved slices, each compared with the raw slice of its own round, and
    // the median ratio over the rounds is reported.
    const configs = ['c1', 'c8', 'c32', 'pool32'] as const;
    const samples: Record<string, Measured[]> = { raw: [], c1: [], c8: [], c32: [], pool32: [] };
    const ratios: Record<string, number[]> = { c1: [], c8: [], c32: [], pool32: [] };
    for (let round = 0; round < rounds; round++) {
      const rawSlice = await measure(rawConcurrency, slice, raw.once, pid);
      samples.raw!.push(rawSlice);
      for (const name of configs) {
        const m = name === 'pool32' ? await measurePool(32, slice, teacherOnce, pid) : await measure(Number(name.slice(1)), slice, teacherOnce, pid);
        samples[name]!.push(m);
        ratios[name]!.push(m.rate / rawSlice.rate);
      }
    }
    raw.close();
    client.close();
    const best: Record<string, Measured> = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, medianBy(v)]));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const cpu = (m: Measured) =>
      `(cpu: client ${(m.clientCpu * 100).toFixed(0)}% = ${((m.clientCpu / m.rate) * 1e6).toFixed(1)} us/req, server ${(m.serverCpu * 100).toFixed(0)}% = ${((m.serverCpu / m.rate) * 1e6).toFixed(1)} us/req)`;
    console.log(`${rounds} rounds of ${slice} s slices; rates are medians, ratios are medians of same-round ratios`);
    console.log(`server raw capacity (the teacher's request bytes, plain keep-alive HTTP, concurrency ${rawConcurrency}): ${best.raw!.rate.toFixed(0)} req/s ${cpu(best.raw!)}`);
    for (const c of [1, 8, 32]) {
      const m = best[`c${c}`]!;
      console.log(`teacher client, concurrency ${String(c).padStart(2)}: ${m.rate.toFixed(0)} req/s  ratio ${median(ratios[`c${c}`]!).toFixed(3)} ${cpu(m)}`);
    }
    console.log(`teacher client through the teach pool (runPool), concurrency 32: ${best.pool32!.rate.toFixed(0)} req/s  ratio ${median(ratios.pool32!).toFixed(3)}`);
    if (failures > 0) console.log(`failed requests: ${failures}`);
    console.log(`RESULT teacher ratio=${median(ratios.c32!).toFixed(3)}`);
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--serve')) serve();
else await main();

/**
 * Opens a page in Debian's headless Chromium and reports what a user's browser console would show,
 * through the DevTools protocol over --remote-debugging-pipe (fd 3 in, fd 4 out, messages ending
 * in NUL): console errors and warnings, uncaught exceptions, failed resource loads and other
 * browser log errors; plus the result of a script evaluated in the loaded page.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_CANDIDATES = ['chromium', 'chromium-browser'];

export function findChromium(): string | undefined {
  for (const bin of CHROMIUM_CANDIDATES) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (!r.error && r.status === 0) return bin;
  }
  return undefined;
}

export interface PageCheck {
  /** Console messages of level error/warning, exceptions and log entries of level error. */
  problems: string[];
  /** What `expression` evaluated to in the loaded page (JSON-serialisable). */
  value: unknown;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export async function checkPage(chromium: string, file: string, expression: string, timeoutMs = 60_000): Promise<PageCheck> {
  const profile = mkdtempSync(join(tmpdir(), 'finesec-chromium-'));
  const child = spawn(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--no-default-browser-check',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners: Array<(m: CdpMessage) => void> = [];
  let buffer = '';
  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end)) as CdpMessage;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined && pending.has(message.id)) {
        const p = pending.get(message.id)!;
        pending.delete(message.id);
        if (message.error) p.reject(new Error(message.error.message));
        else p.resolve(message.result ?? {});
      } else for (const l of listeners) l(message);
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });

  const problems: string[] = [];
  let loaded: () => void = () => undefined;
  const loadedPromise = new Promise<void>((r) => (loaded = r));
  listeners.push((m) => {
    const p = m.params ?? {};
    if (m.method === 'Runtime.consoleAPICalled' && ['error', 'warning', 'assert'].includes(String(p.type))) {
      const args = (p.args as Array<{ value?: unknown; description?: string }>) ?? [];
      problems.push(`console.${String(p.type)}: ${args.map((a) => String(a.value ?? a.description ?? '')).join(' ')}`);
    } else if (m.method === 'Runtime.exceptionThrown') {
      const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
      problems.push(`exception: ${d.exception?.description ?? d.text ?? 'unknown'}`);
    } else if (m.method === 'Log.entryAdded') {
      const e = p.entry as { level: string; text: string; url?: string };
      if (e.level === 'error' || e.level === 'warning') problems.push(`log ${e.level}: ${e.text}${e.url ? ` (${e.url})` : ''}`);
    } else if (m.method === 'Page.loadEventFired') loaded();
  });

  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    await send('Runtime.enable', {}, sessionId);
    await send('Log.enable', {}, sessionId);
    await send('Page.enable', {}, sessionId);
    await send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
    await loadedPromise;
    const evaluated = (await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value?: unknown } };
    // Let late console messages (e.g. from a timer) arrive.
    await new Promise((r) => setTimeout(r, 200));
    await send('Browser.close').catch(() => undefined);
    return { problems, value: evaluated.result.value };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(profile, { recursive: true, force: true });
  }
}

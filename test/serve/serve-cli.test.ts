import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import OpenAI from 'openai';
import { repoRoot, runCli } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';

describe('finesec serve as a process', () => {
  it('prints its URL, serves, and exits 0 after finishing on SIGTERM', async () => {
    const model = await tinyModel();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test/helpers/entry.ts'), 'serve', '--model', model, '--port', '0', '--ctx', '512', '--model-id', 'tiny', '--api-key-env', 'FINESEC_TEST_KEY'],
      { cwd: repoRoot, env: { ...process.env, FINESEC_TEST_KEY: 'k1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.on('close', () => reject(new Error(`serve exited early: ${stderr}`)));
    });
    const client = new OpenAI({ baseURL: url, apiKey: 'k1', maxRetries: 0 });
    // The grammar admits only a 300-character string, so the request is still running when the signal comes.
    const pending = client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 500,
      temperature: 1,
      seed: 1,
      response_format: { type: 'json_schema', json_schema: { name: 'long', schema: { type: 'string', minLength: 300, maxLength: 300 } } },
    });
    // Signal while the request runs: it still completes, then the process ends cleanly.
    const health = url.replace(/\/v1$/, '/health');
    for (let i = 0; i < 200; i++) {
      const state = (await (await fetch(health)).json()) as { queued: number };
      if (state.queued > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGTERM');
    const answer = await pending;
    expect((JSON.parse(answer.choices[0]!.message.content!) as string).length).toBeGreaterThanOrEqual(300);
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM: finishing the running request and shutting down');
  });

  it('refuses a missing API key variable and a missing model with exit 2', async () => {
    const model = await tinyModel();
    const noKey = await runCli(['serve', '--model', model, '--api-key-env', 'FINESEC_SURELY_UNSET_VAR']);
    expect(noKey.code).toBe(2);
    const noModel = await runCli(['serve', '--port', '0']);
    expect(noModel.code).toBe(2);
    const badFile = await runCli(['serve', '--model', join(repoRoot, 'package.json'), '--port', '0']);
    expect(badFile.code).toBe(2);
  });
});

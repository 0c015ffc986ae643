import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { initWorkspace, openWorkspace, type Workspace } from '../../src/config/workspace.js';
import { writeGgufLora, type LoraPair } from '../../src/engine/adapter/gguf-lora.js';
import { parseModelSpec, resolveModelSpec } from '../../src/eval/model-spec.js';
import { adapterEvents, getAdapter } from '../../src/kb/adapters.js';
import {
  promoteAdapter,
  promotionStack,
  registerAdapter,
  rejectAdapter,
  requireAdapter,
  resolveAdapter,
  rollbackAdapter,
  workspaceRegistry,
} from '../../src/learn/registry.js';

let dir: string;
let cleanup: () => void;
let base: string;
let wsDir: string;

/** A LoRA on both layers' attention queries of the tiny model (64 -> 64), values from a seed. */
function adapterFile(name: string, seed: number, dims = 64): string {
  let state = seed;
  const next = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const pairs: LoraPair[] = [0, 1].map((layer) => ({
    target: `blk.${layer}.attn_q.weight`,
    rank: 4,
    inFeatures: dims,
    outFeatures: 64,
    a: Float32Array.from({ length: 4 * dims }, next),
    b: Float32Array.from({ length: 64 * 4 }, next),
  }));
  const path = join(dir, `${name}.gguf`);
  writeGgufLora(path, { architecture: 'llama', alpha: 8, pairs });
  return path;
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('finesec-registry-'));
  base = await tinyModel();
  wsDir = join(dir, 'ws');
  initWorkspace(wsDir);
});
afterAll(() => cleanup());

function withWs<T>(fn: (w: Workspace) => T): T {
  const w = openWorkspace(wsDir, { create: false });
  try {
    return fn(w);
  } finally {
    w.close();
  }
}

describe('adapter registry', () => {
  it('registers a copy in the workspace, promotes, rolls back to the exact previous adapter, and keeps the history', () => {
    const f1 = adapterFile('one', 1);
    const f2 = adapterFile('two', 2);
    withWs((w) => {
      const v1 = registerAdapter(w, { file: f1, base, id: 'v1', status: 'promoted', note: 'first' });
      expect(v1).toMatchObject({ id: 'v1', status: 'promoted', path: join('adapters', 'v1', 'adapter.gguf'), parent_id: null, sha256: sha(f1), base_sha256: sha(base) });
      expect(sha(join(wsDir, v1.path))).toBe(sha(f1));
      const v1Before = getAdapter(w.db, 'v1')!;
      const v2 = registerAdapter(w, { file: f2, base, id: 'v2', parentId: 'v1', dataSha256: 'd'.repeat(64), trainRunId: 'train-x' });
      expect(v2.status).toBe('candidate');
      expect(requireAdapter(w.db, 'current').id).toBe('v1');
      expect(promoteAdapter(w.db, 'v2', 'better').previous).toBe('v1');
      expect(requireAdapter(w.db, 'current').id).toBe('v2');
      expect(promotionStack(w.db, v1.base_sha256)).toEqual(['v1', 'v2']);
      expect(workspaceRegistry(w).resolve('current')).toEqual({ base, adapters: [{ path: join(wsDir, 'adapters', 'v2', 'adapter.gguf'), scale: 1 }] });
      // The eval stage's adapter:ID hook resolves through it.
      expect(resolveModelSpec(parseModelSpec('adapter:v1'), workspaceRegistry(w))).toEqual({
        kind: 'gguf',
        text: 'adapter:v1',
        base,
        adapters: [{ path: join(wsDir, 'adapters', 'v1', 'adapter.gguf'), scale: 1 }],
      });

      const r = rollbackAdapter(w.db, undefined, 'worse in production');
      expect(r.to.id).toBe('v1');
      expect(r.from).toMatchObject({ id: 'v2', status: 'rejected' });
      expect(JSON.parse(r.from.metrics)).toMatchObject({ rolled_back: { to: 'v1', reason: 'worse in production' } });
      expect(getAdapter(w.db, 'v1')).toEqual(v1Before);
      expect(resolveAdapter(w, 'current').adapter).toBe(join(wsDir, 'adapters', 'v1', 'adapter.gguf'));
      expect(sha(resolveAdapter(w, 'current').adapter)).toBe(sha(f1));
      expect(() => rollbackAdapter(w.db, 'v1', null)).toThrow(/v1 was the first one promoted for its base model: there is nothing to roll back to/);
      expect(adapterEvents(w.db, { baseSha256: v1.base_sha256 }).map((e) => [e.action, e.adapter_id, e.previous_id])).toEqual([
        ['register', 'v1', null],
        ['promote', 'v1', null],
        ['register', 'v2', null],
        ['promote', 'v2', 'v1'],
        ['rollback', 'v1', 'v2'],
      ]);
    });
  });

  it('rejects a candidate with its numbers, but never the current adapter', () => {
    const f3 = adapterFile('three', 3);
    withWs((w) => {
      registerAdapter(w, { file: f3, base, id: 'v3', parentId: 'v1' });
      const rejected = rejectAdapter(w.db, 'v3', 'target fell', { gate: { target: { before: 0.5, after: 0.4 } } });
      expect(rejected.status).toBe('rejected');
      expect(JSON.parse(rejected.metrics)).toEqual({ gate: { target: { before: 0.5, after: 0.4 } }, rejected: { reason: 'target fell' } });
      expect(() => rejectAdapter(w.db, 'v1', 'x')).toThrow(/v1 is current; roll it back instead/);
    });
  });

  it('refuses bad registrations and a file changed after registration', () => {
    withWs((w) => {
      expect(() => registerAdapter(w, { file: adapterFile('dup', 4), base, id: 'v1' })).toThrow(/adapter id "v1" is already registered/);
      expect(() => registerAdapter(w, { file: adapterFile('cur', 4), base, id: 'current' })).toThrow(/not "current"/);
      expect(() => registerAdapter(w, { file: adapterFile('orphan', 4), base, parentId: 'nope' })).toThrow(/parent adapter "nope" is not registered/);
      expect(() => registerAdapter(w, { file: adapterFile('wide', 5, 96), base })).toThrow(/does not fit base .*wrong base model\?/);
      expect(() => registerAdapter(w, { file: join(dir, 'missing.gguf'), base })).toThrow(/missing\.gguf: no such adapter file/);
      expect(() => requireAdapter(w.db, 'nope')).toThrow(/no adapter "nope" in the registry \(have: v1, v2, v3\)/);
      const v2 = getAdapter(w.db, 'v2')!;
      appendFileSync(join(wsDir, v2.path), 'x');
      expect(() => resolveAdapter(w, 'v2')).toThrow(/adapter v2: .* changed since it was registered/);
    });
  });

  it('works from the command line', async () => {
    const f = adapterFile('cli', 6);
    const reg = await runCli(['adapters', 'register', f, '--base', base, '--id', 'c1', '--parent', 'v1', '--workspace', wsDir, '--json']);
    expect(reg.code).toBe(0);
    expect(JSON.parse(reg.stdout).adapter).toMatchObject({ id: 'c1', status: 'candidate', parent_id: 'v1' });
    expect((await runCli(['adapters', 'promote', 'c1', '--workspace', wsDir, '--quiet'])).code).toBe(0);
    const list = JSON.parse((await runCli(['adapters', 'list', '--workspace', wsDir, '--json'])).stdout);
    expect(list.adapters.filter((a: { current: boolean }) => a.current).map((a: { id: string }) => a.id)).toEqual(['c1']);
    const show = JSON.parse((await runCli(['adapters', 'show', 'current', '--workspace', wsDir, '--json'])).stdout);
    expect(show).toMatchObject({ id: 'c1', file_ok: true, base_ok: true, lineage: [{ id: 'c1' }, { id: 'v1' }] });
    const back = JSON.parse((await runCli(['adapters', 'rollback', '--workspace', wsDir, '--json'])).stdout);
    expect(back.to.id).toBe('v1');
    const bad = await runCli(['adapters', 'show', 'nope', '--workspace', wsDir]);
    expect(bad.code).toBe(2);
  });
});

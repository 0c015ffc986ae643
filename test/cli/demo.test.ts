import { describe, expect, it } from 'vitest';
import { bundledNanoBase } from '../../src/demo/pipeline.js';
import { runCli, tempDir } from '../helpers/cli.js';

describe('finesec demo', () => {
  it('runs every built stage offline and reports each one honestly', async () => {
    const t = tempDir();
    try {
      const r = await runCli(['demo', '--dir', t.dir, '--count', '120', '--train-steps', '3', '--eval-limit', '6', '--max-tokens', '64', '--json']);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { baseKind: string; steps: Array<{ name: string; status: string; summary: string }> };
      const byName = new Map(out.steps.map((s) => [s.name, s]));
      for (const name of ['synth', 'split', 'stats', 'teach', 'distill', 'base', 'train', 'eval', 'scan']) expect(byName.get(name)?.status).toBe('done');
      expect(byName.get('split')!.summary).toMatch(/leakage check clean/);
      expect(byName.get('teach')!.summary).toMatch(/120|\d+ accepted, 0 rejected/);
      expect(byName.get('scan')!.summary).toMatch(/\d+ findings in 11 functions of 3 files/);
      expect(byName.get('eval')!.summary).toMatch(/F1 before (\d\.\d{3}|na), after (\d\.\d{3}|na)/);
      expect(byName.get('eval')!.summary).toMatch(/after MCC (-?\d\.\d{3}|na), P-C (\d\.\d{3}|na)/);
      // The bundled nano base when this checkout has it, the random stand-in otherwise, and the summary says which.
      expect(out.baseKind).toBe(bundledNanoBase() ? 'nano' : 'random');
      expect(byName.get('base')!.summary).toMatch(bundledNanoBase() ? /nano demonstration base/ : /random 2-layer llama base/);
      for (const s of out.steps) expect(['done', 'not built']).toContain(s.status);
    } finally {
      t.cleanup();
    }
  });
});

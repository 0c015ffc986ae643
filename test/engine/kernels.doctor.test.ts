/**
 * `finesec doctor` and the backend selection: the addon when it loads, the TypeScript fallback
 * when FINESEC_KERNELS=ts, a forced ISA with FINESEC_ISA, clear errors for bad values; and the
 * native build script never failing `npm ci`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/engine/kernels/native.js';
import { repoRoot, runCli, spawnCli } from '../helpers/cli.js';

interface DoctorJson {
  kernels: { backend: string; requested: string; reason: string; addon: { loaded: boolean; error?: string }; isa: string; vnni: boolean; threadsDefault: number };
  nodeLlamaCpp: string | null;
  selfCheck: { ok: boolean; checks: Array<{ name: string; ok: boolean; error: number }> };
}

const nativeLoads = loadNative().ok;

describe('finesec doctor', () => {
  it('reports the active kernels, their ISA, node-llama-cpp and a passing self-check (--json)', async () => {
    const { code, stdout } = await runCli(['doctor', '--json', '--threads', '2']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as DoctorJson;
    expect(report.kernels.threadsDefault).toBe(1);
    expect(report.nodeLlamaCpp).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.selfCheck.ok).toBe(true);
    expect(report.selfCheck.checks.map((c) => c.name)).toEqual([
      'f32 gemm',
      'f32 gemm, 2 threads = 1 thread',
      'q8_0 gemm',
      'q8_0 gemm (q8 activations)',
    ]);
    if (process.env.FINESEC_KERNELS === 'ts') {
      expect(report.kernels.backend).toBe('ts');
    } else {
      // a build that failed shows up here with its reason instead of passing silently
      expect(report.kernels.addon.error ?? '').toBe('');
      expect(report.kernels.backend).toBe('native');
      expect(['avx512', 'avx2', 'scalar']).toContain(report.kernels.isa);
    }
  });

  it('FINESEC_KERNELS=ts forces the TypeScript fallback and says why (text output)', async () => {
    const r = await spawnCli(['doctor'], { env: { FINESEC_KERNELS: 'ts' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TypeScript fallback (TypeScript fallback forced by FINESEC_KERNELS=ts)');
    expect(r.stdout).toContain('addon:          not loaded: not tried: FINESEC_KERNELS=ts');
    expect(r.stdout).toContain('ISA path:       js');
    expect(r.stdout).toMatch(/self-check:\s+OK/);
  });

  it('FINESEC_ISA forces a native path; bad values are usage errors (exit 2)', async () => {
    if (nativeLoads) {
      const r = await spawnCli(['doctor', '--json'], { env: { FINESEC_ISA: 'scalar', FINESEC_KERNELS: 'native' } });
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as DoctorJson;
      expect(report.kernels.isa).toBe('scalar');
      expect(report.kernels.vnni).toBe(false);
      expect(report.kernels.reason).toContain('FINESEC_ISA=scalar');
    }
    const bad = await spawnCli(['doctor'], { env: { FINESEC_KERNELS: 'gpu' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('FINESEC_KERNELS must be auto, native or ts, got "gpu"');
    const badIsa = await spawnCli(['doctor'], { env: { FINESEC_ISA: 'neon', FINESEC_KERNELS: 'auto' } });
    expect(badIsa.code).toBe(2);
    expect(badIsa.stderr).toContain('FINESEC_ISA must be auto, avx512, avx2, scalar, got "neon"');
  });
});

describe('scripts/build-native.mjs', () => {
  it('never fails the install: a missing node-gyp is one warning line and exit 0', () => {
    // FINESEC_NODE_GYP points at nothing, so the existing build is left untouched
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-native.mjs')], {
      env: { ...process.env, FINESEC_NODE_GYP: join(repoRoot, 'no-such-dir/node-gyp.js') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^finesec: warning: native kernels not built \(node-gyp not found at .*\); the TypeScript fallback will be used$/);
  });

  it('FINESEC_SKIP_NATIVE=1 skips the build with a note', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-native.mjs')], {
      env: { ...process.env, FINESEC_SKIP_NATIVE: '1' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('native kernels skipped (FINESEC_SKIP_NATIVE=1)');
  });
});

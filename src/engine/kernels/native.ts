/**
 * Loads the C++ addon (native/build/Release/finesec_kernels.node, built by scripts/build-native.mjs
 * during `npm ci`). Never throws: a missing, stale or broken build comes back as a reason, and the
 * caller falls back to the TypeScript kernels.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BackendInfo, Isa, KernelBackend } from './api.js';

/** Must equal kApiVersion in native/src/addon.cc. */
export const NATIVE_API_VERSION = 1;

// src/engine/kernels and dist/engine/kernels are both three levels below the package root.
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/finesec_kernels.node', import.meta.url));

export interface NativeBackend extends KernelBackend {
  readonly name: 'native';
  /** Switches the instruction-set path ('auto' = best available); false when the CPU lacks it. */
  setIsa(isa: Isa | 'auto'): boolean;
}

export type NativeLoad = { ok: true; backend: NativeBackend; path: string } | { ok: false; reason: string; path: string };

interface RawAddon extends Omit<KernelBackend, 'name' | 'info'> {
  info(): BackendInfo & { apiVersion: number; compiler: string };
  setIsa(isa: string): boolean;
}

let cached: NativeLoad | undefined;

export function loadNative(path: string = NATIVE_ADDON_PATH): NativeLoad {
  if (cached && cached.path === path) return cached;
  cached = load(path);
  return cached;
}

function load(path: string): NativeLoad {
  if (!existsSync(path)) {
    return { ok: false, path, reason: `${path} not found (the build was skipped or failed; run: node scripts/build-native.mjs)` };
  }
  let raw: RawAddon;
  try {
    raw = createRequire(import.meta.url)(path) as RawAddon;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return { ok: false, path, reason: `cannot load ${path}: ${message}` };
  }
  const info = raw.info();
  if (info.apiVersion !== NATIVE_API_VERSION) {
    return {
      ok: false,
      path,
      reason: `stale build: addon API ${info.apiVersion}, expected ${NATIVE_API_VERSION} (rebuild: node scripts/build-native.mjs)`,
    };
  }
  const backend: NativeBackend = {
    ...raw,
    name: 'native',
    info: () => {
      const i = raw.info();
      return { backend: 'native', isa: i.isa, vnni: i.vnni, features: i.features };
    },
    setIsa: (isa) => raw.setIsa(isa),
  };
  return { ok: true, backend, path };
}

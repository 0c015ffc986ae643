#!/usr/bin/env node
// Builds the native kernels (native/ -> native/build/Release/finesec_kernels.node) with the node-gyp
// that ships with npm. Runs from `npm run prepare` (so during `npm ci`) and must never fail it:
// whatever goes wrong, it prints one warning line, keeps the log in native/build/build.log and
// exits 0; finesec then uses the TypeScript kernels.
//   FINESEC_SKIP_NATIVE=1   skip the build
//   FINESEC_NODE_GYP=PATH   node-gyp.js to use instead of the one found next to npm
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const logPath = join(nativeDir, 'build', 'build.log');
const addon = join(nativeDir, 'build', 'Release', 'finesec_kernels.node');
const relative = (p) => p.slice(root.length + 1);

function warn(reason) {
  console.warn(`finesec: warning: native kernels not built (${reason}); the TypeScript fallback will be used`);
  process.exit(0);
}

function findNodeGyp() {
  if (process.env.FINESEC_NODE_GYP) return process.env.FINESEC_NODE_GYP;
  const candidates = [];
  // npm sets npm_config_node_gyp for lifecycle scripts; npm_execpath points at npm-cli.js
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push('/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  candidates.push('/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  return candidates.find((c) => c.endsWith('.js') && existsSync(c));
}

// Node's own headers when they are installed next to the binary (offline builds need them).
function findNodeDir() {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function main() {
  if (process.env.FINESEC_SKIP_NATIVE === '1') {
    console.warn('finesec: native kernels skipped (FINESEC_SKIP_NATIVE=1); the TypeScript fallback will be used');
    return;
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp || !existsSync(nodeGyp)) return warn(`node-gyp not found${nodeGyp ? ` at ${nodeGyp}` : ''}`);
  const nodeDir = findNodeDir();
  const args = [nodeGyp, 'rebuild', `--jobs=${Math.max(1, Math.min(availableParallelism(), 4))}`];
  if (nodeDir) args.push(`--nodedir=${nodeDir}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const log = `$ node ${args.join(' ')}\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `\n${run.error.message}\n` : ''}`;
  try {
    mkdirSync(dirname(logPath), { recursive: true });
    writeFileSync(logPath, log);
  } catch {
    // the warning below still says what happened
  }
  if (run.error || run.status !== 0 || !existsSync(addon)) {
    const lastError = log.split('\n').reverse().find((l) => /error/i.test(l) && !/gyp ERR! (cwd|node -v|node-gyp -v|not ok|System|command)/.test(l));
    const why = run.error ? run.error.message : `node-gyp exited with ${run.status ?? run.signal}`;
    return warn(`${why}${lastError ? `: ${lastError.trim().slice(0, 160)}` : ''}; log: ${relative(logPath)}`);
  }
  console.warn(`finesec: native kernels built in ${seconds}s (${relative(addon)})`);
}

try {
  main();
} catch (err) {
  warn(err instanceof Error ? err.message : String(err));
}

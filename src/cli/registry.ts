import type { CommandSpec } from './command.js';

/**
 * Every command: its name (one or two words) and the module that defines it. Modules load lazily
 * so `finesec --help` stays fast and a broken optional dependency only affects its own command.
 */
export const commands: Array<{ name: string; summary: string; load: () => Promise<{ command: CommandSpec }> }> = [
  { name: 'init', summary: 'create a workspace (.finesec/ with kb.sqlite and finesec.yaml)', load: () => import('./init.js') },
  // corpus: ingest
  // corpus: datasets, dataset stats, split
  // corpus: synth
  // runtime: model init, model info, model quantize, generate, serve
  // engine: doctor
];

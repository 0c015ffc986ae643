import { UsageError } from '../../util/errors.js';
import { cppcheck } from './cppcheck.js';
import { flawfinder } from './flawfinder.js';
import type { Baseline } from './types.js';

export type { Baseline, BaselineAnalysis } from './types.js';

export const BASELINE_NAMES = ['cppcheck', 'flawfinder'] as const;

/** `cppcheck`, `flawfinder` or `flawfinder:LEVEL` (another risk-level threshold). */
export function parseBaseline(text: string, command = 'eval'): Baseline {
  const [name, option, ...rest] = text.split(':');
  if (name === 'cppcheck' && option === undefined) return cppcheck;
  if (name === 'flawfinder' && rest.length === 0) {
    if (option === undefined) return flawfinder();
    const level = Number(option);
    if (!/^[0-5]$/.test(option) || !Number.isInteger(level)) throw new UsageError(`${command}: --baseline ${text}: the flawfinder level must be 0..5`);
    return flawfinder(level);
  }
  throw new UsageError(`${command}: --baseline ${text}: expected one of cppcheck, flawfinder, flawfinder:LEVEL`);
}

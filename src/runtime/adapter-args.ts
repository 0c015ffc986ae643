import { UsageError } from '../util/errors.js';
import type { AdapterSpec } from './local-student.js';

/**
 * `--lora FILE[:SCALE]` values: the scale is the text after the last colon when it is a number
 * (so a path containing colons still works without a scale).
 */
export function parseAdapterArgs(command: string, values: string[]): AdapterSpec[] {
  return values.map((value) => {
    const colon = value.lastIndexOf(':');
    if (colon > 0) {
      const scaleText = value.slice(colon + 1);
      const scale = Number(scaleText);
      if (scaleText.trim() !== '' && Number.isFinite(scale)) return { path: value.slice(0, colon), scale };
      if (/^[-+.0-9eE]+$/.test(scaleText)) throw new UsageError(`${command}: --lora ${value}: scale "${scaleText}" is not a number`);
    }
    return { path: value, scale: 1 };
  });
}

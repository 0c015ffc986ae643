import { UsageError } from '../../util/errors.js';
import type { Importer } from './types.js';

/** Every import format, by name; each module loads only when its format is used. */
export const importFormats: Record<string, { summary: string; load: () => Promise<{ importer: Importer }> }> = {
  primevul: {
    summary: 'PrimeVul / DiverseVul / CodeXGLUE Devign JSONL(.gz); --group-field FIELD',
    load: () => import('./primevul.js'),
  },
  bigvul: { summary: 'BigVul CSV: vulnerable rows give a vulnerable + fixed pair', load: () => import('./bigvul.js') },
  juliet: { summary: 'Juliet C/C++ 1.3 directory tree (testcases/CWE*/...)', load: () => import('./juliet.js') },
  source: { summary: 'a directory of C/C++ source, unlabelled, split into functions', load: () => import('./source.js') },
  jsonl: { summary: 'any JSONL(.gz) with --map code=FIELD,label=FIELD,...', load: () => import('./jsonl.js') },
};

export const formatNames = Object.keys(importFormats);

export async function loadImporter(format: string | undefined): Promise<Importer> {
  const entry = format ? importFormats[format] : undefined;
  if (!entry) {
    const what = format ? `unknown format "${format}"` : 'missing --format';
    throw new UsageError(`ingest: ${what} (formats: ${formatNames.join(', ')})`);
  }
  return (await entry.load()).importer;
}

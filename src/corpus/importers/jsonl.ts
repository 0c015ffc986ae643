import type { SampleInput } from '../../kb/samples.js';
import { UsageError } from '../../util/errors.js';
import {
  fieldLabel,
  getField,
  guessLanguage,
  languageFromFileName,
  readCode,
  readCwes,
  readLabel,
  readLanguage,
  readLineNumbers,
  readText,
  type FieldResult,
  type Row,
} from './fields.js';
import { listJsonlFiles, openJsonl } from './jsonl-input.js';
import type { Importer, ImportSettings, InputFile, Unit } from './types.js';

/** Any JSONL, with `--map code=FIELD,label=FIELD,...` saying which row field feeds which column. */

export const mapKeys = ['code', 'label', 'cwe', 'project', 'commit', 'group', 'pair', 'language', 'flaw_lines', 'id', 'file', 'function'] as const;
export type MapKey = (typeof mapKeys)[number];
export type FieldMap = Partial<Record<MapKey, string>>;

/** Parses ["code=body", "label=is_vuln"] into a field map; mistakes are usage errors. */
export function parseFieldMap(entries: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || eq === entry.length - 1) throw new UsageError(`ingest: --map entry "${entry}": expected KEY=FIELD (e.g. code=func)`);
    const key = entry.slice(0, eq).trim();
    if (!(mapKeys as readonly string[]).includes(key)) {
      throw new UsageError(`ingest: --map key "${key}" is not one of ${mapKeys.join(', ')}`);
    }
    map[key] = entry.slice(eq + 1).trim();
  }
  return map;
}

export function jsonlUnit(row: Row, line: number, input: InputFile, map: FieldMap): Omit<Unit, 'line'> {
  const reject = (reason: string): Omit<Unit, 'line'> => ({ samples: [], rejections: [{ reason }] });
  const field = (key: MapKey): unknown => (map[key] ? getField(row, map[key]) : undefined);
  const name = (key: MapKey): string => fieldLabel(map[key] ?? key, key);
  const read = <T>(key: MapKey, reader: (value: unknown, field: string) => FieldResult<T>, empty: T): FieldResult<T> =>
    map[key] ? reader(field(key), name(key)) : { ok: true, value: empty };

  const code = readCode(field('code'), name('code'));
  if (!code.ok) return reject(code.reason);
  if (map.label && field('label') === undefined) return reject(`missing field ${name('label')}`);
  const label = read('label', readLabel, null);
  if (!label.ok) return reject(label.reason);
  const cwes = read('cwe', readCwes, []);
  if (!cwes.ok) return reject(cwes.reason);
  const flawLines = read('flaw_lines', readLineNumbers, []);
  if (!flawLines.ok) return reject(flawLines.reason);
  const declared = read('language', readLanguage, null);
  if (!declared.ok) return reject(declared.reason);
  const texts: Partial<Record<MapKey, string | null>> = {};
  for (const key of ['project', 'commit', 'group', 'pair', 'id', 'file', 'function'] as const) {
    const value = read(key, readText, null);
    if (!value.ok) return reject(value.reason);
    texts[key] = value.value;
  }
  if (map.group && texts.group === null) return reject(`missing group field ${name('group')}`);

  const mapped = new Set(Object.values(map));
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (!mapped.has(k)) meta[k] = v;
  const sample: SampleInput = {
    sourceKey: texts.id ? `${input.key}#id:${texts.id}` : `${input.key}#line:${line}`,
    code: code.value,
    language: declared.value ?? languageFromFileName(texts.file) ?? guessLanguage(code.value),
    label: label.value,
    cwes: cwes.value,
    flawLines: flawLines.value,
    pairId: texts.pair ?? null,
    groupId: texts.group ?? null,
    project: texts.project ?? null,
    commitId: texts.commit ?? null,
    file: texts.file ?? null,
    functionName: texts.function ?? null,
    meta,
  };
  return { samples: [sample], rejections: [] };
}

function fieldMap(settings: ImportSettings): FieldMap {
  const map: FieldMap = { ...(settings.map ?? {}) };
  if (settings.groupField) map.group ??= settings.groupField;
  if (!map.code) throw new UsageError('ingest: --format jsonl needs --map code=FIELD (and usually label=FIELD)');
  return map;
}

export const importer: Importer = {
  format: 'jsonl',
  unit: 'rows',
  async listInputs(settings) {
    fieldMap(settings);
    return listJsonlFiles(settings.path);
  },
  async open(input, settings) {
    const map = fieldMap(settings);
    return openJsonl(input, (row, line) => jsonlUnit(row, line, input, map));
  },
};

import type { SampleInput } from '../../kb/samples.js';
import { InputError } from '../../util/errors.js';
import { readCsv } from './csv.js';
import {
  fieldLabel,
  guessLanguage,
  languageFromFileName,
  readCode,
  readCwes,
  readLabel,
  readLanguage,
  readText,
  type FieldResult,
} from './fields.js';
import { hashFile, listInputFiles, openText } from './files.js';
import type { Importer, InputFile, OpenedInput, Unit } from './types.js';

/**
 * The BigVul CSV (MSR_data_cleaned.csv: func_before, func_after, vul, lines_before, "CWE ID",
 * "CVE ID", commit_id, project, ...). A vulnerable row gives its vulnerable function (flaw lines
 * from lines_before) and the fixed twin (func_after, label 0) under one pair id; other rows give
 * one label-0 sample.
 */

/** Columns read into samples; other short columns are kept in meta. */
const consumed = new Set(['func_before', 'func_after', 'vul', 'lines_before', 'lines_after', 'CWE ID', 'CVE ID', 'commit_id', 'project', 'file_name', 'lang']);
const META_MAX_CHARS = 300;

export function bigvulSamples(row: Record<string, string>, rowId: string, input: InputFile): { samples: SampleInput[]; reason?: string } {
  const fail = (reason: string): { samples: SampleInput[]; reason: string } => ({ samples: [], reason });
  const before = readCode(row.func_before, fieldLabel('func_before'));
  if (!before.ok) return fail(before.reason);
  if (row.vul === undefined) return fail('missing required field "vul"');
  const label = readLabel(row.vul, fieldLabel('vul'));
  if (!label.ok) return fail(label.reason);
  if (label.value === null) return fail('field "vul" is empty (expected 0 or 1)');
  const cwes = readCwes(row['CWE ID'], fieldLabel('CWE ID'));
  if (!cwes.ok) return fail(cwes.reason);
  const declared: FieldResult<'c' | 'cpp' | null> = row.lang ? readLanguage(row.lang, fieldLabel('lang')) : { ok: true, value: null };
  if (!declared.ok) return fail(declared.reason);
  const file = readText(row.file_name, fieldLabel('file_name'));
  const project = row.project || null;
  const commit = row.commit_id || null;
  const cve = row['CVE ID'] || null;
  const meta: Record<string, unknown> = { ...(cve ? { cve } : {}) };
  for (const [k, v] of Object.entries(row)) if (!consumed.has(k) && k !== '' && v !== '' && v.length <= META_MAX_CHARS) meta[k] = v;
  const language = declared.value ?? languageFromFileName(file.ok ? file.value : null) ?? guessLanguage(before.value);
  const common = {
    language,
    cwes: cwes.value,
    project,
    commitId: commit,
    file: file.ok ? file.value : null,
    meta,
  };
  if (label.value === 0) {
    return { samples: [{ ...common, sourceKey: `${input.key}#${rowId}`, code: before.value, label: 0, flawLines: [] }] };
  }
  const pairId = `bigvul:${input.key}#${rowId}`;
  const samples: SampleInput[] = [
    {
      ...common,
      sourceKey: `${input.key}#${rowId}:before`,
      code: before.value,
      label: 1,
      flawLines: flawLinesFrom(row.lines_before ?? '', before.value),
      pairId,
    },
  ];
  const after = readCode(row.func_after, fieldLabel('func_after'));
  if (after.ok) samples.push({ ...common, sourceKey: `${input.key}#${rowId}:after`, code: after.value, label: 0, flawLines: [], pairId });
  return { samples };
}

/**
 * lines_before is either line numbers ("3,7" or "[3, 7]") or the text of the removed lines; text
 * lines are located in the function (each match used once, in order).
 */
export function flawLinesFrom(linesBefore: string, code: string): number[] {
  const value = linesBefore.trim();
  if (value === '') return [];
  if (/^[[\]\d\s,;]+$/.test(value)) {
    return [...new Set(value.match(/\d+/g)!.map(Number).filter((n) => n >= 1))].sort((a, b) => a - b);
  }
  const codeLines = code.split('\n').map((l) => l.trim());
  const used = new Set<number>();
  const found: number[] = [];
  for (const wanted of value.split(/\n|\/~\//).map((l) => l.trim())) {
    if (wanted === '') continue;
    const index = codeLines.findIndex((l, i) => !used.has(i) && l === wanted);
    if (index === -1) continue;
    used.add(index);
    found.push(index + 1);
  }
  return found.sort((a, b) => a - b);
}

async function openBigvul(input: InputFile): Promise<OpenedInput> {
  const contentHash = await hashFile(input.path);
  let fraction = (): number => 0;
  return {
    contentHash,
    fraction: () => fraction(),
    async *units(skip: number): AsyncIterable<Unit> {
      const text = openText(input.path, input.size);
      text.stream.setEncoding('utf8');
      fraction = text.fraction;
      let header: string[] | undefined;
      let indexColumn = -1;
      let record = 0;
      try {
        for await (const rec of readCsv(text.stream)) {
          if (!header) {
            if (rec.error) throw new InputError(`${input.display}:${rec.line}: cannot read the CSV header: ${rec.error}`);
            header = rec.fields.map((f) => f.trim());
            if (!header.includes('func_before') || !header.includes('vul')) {
              throw new InputError(`${input.display}:1: not a BigVul CSV: the header needs func_before and vul columns (has ${header.slice(0, 8).join(', ')}${header.length > 8 ? ', ...' : ''})`);
            }
            indexColumn = ['', 'Unnamed: 0', 'index', 'idx'].includes(header[0]!) ? 0 : -1;
            continue;
          }
          record++;
          if (record <= skip) continue;
          const line = rec.line;
          if (rec.fields.length === 1 && rec.fields[0] === '' && !rec.error) {
            yield { line, samples: [], rejections: [], counts: false };
            continue;
          }
          if (rec.error) {
            yield { line, samples: [], rejections: [{ reason: rec.error }] };
            continue;
          }
          if (rec.fields.length !== header.length) {
            yield { line, samples: [], rejections: [{ reason: `malformed CSV record: expected ${header.length} fields, got ${rec.fields.length}` }] };
            continue;
          }
          const row: Record<string, string> = {};
          header.forEach((name, i) => {
            row[name] = rec.fields[i]!;
          });
          const rowId = indexColumn === 0 && rec.fields[0] !== '' ? rec.fields[0]! : `record:${record}`;
          const result = bigvulSamples(row, rowId, input);
          yield { line, samples: result.samples, rejections: result.reason ? [{ reason: result.reason }] : [] };
        }
      } finally {
        text.stream.destroy();
      }
    },
  };
}

export const importer: Importer = {
  format: 'bigvul',
  unit: 'records',
  async listInputs(settings) {
    return listInputFiles(settings.path, (rel) => /\.csv(\.gz)?$/i.test(rel));
  },
  async open(input) {
    return openBigvul(input);
  },
};

import type { Db } from '../../kb/db.js';
import type { SampleInput } from '../../kb/samples.js';
import {
  fieldLabel,
  functionNameFromHead,
  getField,
  guessLanguage,
  languageFromFileName,
  readCode,
  readCwes,
  readLabel,
  readLanguage,
  readLineNumbers,
  readText,
  type Row,
} from './fields.js';
import { listJsonlFiles, openJsonl } from './jsonl-input.js';
import type { Importer, ImportSettings, InputFile, Unit } from './types.js';

/**
 * PrimeVul rows (idx, project, commit_id, target, func, cwe, cve, file_name, ...), and the
 * DiverseVul (func, target, cwe, project, commit_id, hash, size, message) and CodeXGLUE Devign
 * (func, target, project, commit_id) rows that share their core fields. Juliet-derived rows in
 * the same shape (testcase, functional_variant, flaw_lines, language) are read too.
 *
 * Pairs: an explicit `pair_id` or Juliet `testcase` is the pair id. Otherwise rows of one commit,
 * file and function name share a derived id, which is kept only where both a vulnerable and a
 * fixed version turned up (finalize), as in PrimeVul's paired files.
 */

/** Columns read into the sample; everything else except the code goes to meta. */
const consumed = new Set(['func', 'target', 'cwe', 'project', 'commit_id', 'language', 'lang', 'flaw_lines', 'pair_id']);

const DERIVED_PAIR = 'commit:';

export function primevulUnit(row: Row, line: number, input: InputFile, settings: ImportSettings): Omit<Unit, 'line'> {
  const reject = (reason: string): Omit<Unit, 'line'> => ({ samples: [], rejections: [{ reason }] });
  const code = readCode(row.func, fieldLabel('func'));
  if (!code.ok) return reject(code.reason);
  if (row.target === undefined) return reject('missing required field "target"');
  const label = readLabel(row.target, fieldLabel('target'));
  if (!label.ok) return reject(label.reason);
  const cwes = readCwes(row.cwe, fieldLabel('cwe'));
  if (!cwes.ok) return reject(cwes.reason);
  const project = readText(row.project, fieldLabel('project'));
  if (!project.ok) return reject(project.reason);
  const commit = readText(row.commit_id, fieldLabel('commit_id'));
  if (!commit.ok) return reject(commit.reason);
  const fileName = readText(row.file_name, fieldLabel('file_name'));
  if (!fileName.ok) return reject(fileName.reason);
  const flawLines = readLineNumbers(row.flaw_lines, fieldLabel('flaw_lines'));
  if (!flawLines.ok) return reject(flawLines.reason);
  const declared = readLanguage(row.language ?? row.lang, fieldLabel(row.language !== undefined ? 'language' : 'lang'));
  if (!declared.ok) return reject(declared.reason);

  let groupId: string | null = null;
  if (settings.groupField) {
    const group = readText(getField(row, settings.groupField), fieldLabel(settings.groupField));
    if (!group.ok) return reject(group.reason);
    if (group.value === null) return reject(`missing group field "${settings.groupField}"`);
    groupId = group.value;
  }

  // Juliet-derived rows carry the label in their test case and file names: those stay in meta.
  const julietShaped = typeof row.testcase === 'string';
  const functionName = julietShaped ? null : functionNameFromHead(code.value);
  let pairId: string | null = null;
  const explicitPair = readText(row.pair_id ?? row.testcase, fieldLabel(row.pair_id !== undefined ? 'pair_id' : 'testcase'));
  if (!explicitPair.ok) return reject(explicitPair.reason);
  if (explicitPair.value !== null) pairId = explicitPair.value;
  else if (commit.value && functionName) pairId = `${DERIVED_PAIR}${commit.value}:${fileName.value ?? ''}:${functionName}`;

  const id = row.idx ?? row.id;
  const sourceKey = id !== undefined && id !== null && id !== '' ? `${input.key}#idx:${String(id)}` : `${input.key}#line:${line}`;
  // Fields that became columns are not repeated in meta (the group field, the test case as pair id).
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (consumed.has(k) || k === settings.groupField || (k === 'testcase' && row.pair_id === undefined)) continue;
    meta[k] = v;
  }

  const sample: SampleInput = {
    sourceKey,
    code: code.value,
    language: declared.value ?? languageFromFileName(fileName.value) ?? guessLanguage(code.value),
    label: label.value,
    cwes: cwes.value,
    flawLines: flawLines.value,
    pairId,
    groupId,
    project: project.value,
    commitId: commit.value,
    file: julietShaped ? null : fileName.value,
    functionName,
    meta,
  };
  return { samples: [sample], rejections: [] };
}

/** Derived pair ids stay only where the group holds a vulnerable and a fixed version. */
export function dropUnmatchedDerivedPairs(db: Db, datasetId: number, prefix: string): void {
  const unmatched = `
    SELECT pair_id FROM samples WHERE dataset_id = @id AND pair_id LIKE @prefix
    GROUP BY pair_id HAVING SUM(label = 1) = 0 OR SUM(label = 0) = 0`;
  const params = { id: datasetId, prefix: `${prefix}%` };
  db.prepare(`UPDATE sample_sources SET pair_id = NULL WHERE dataset_id = @id AND pair_id IN (${unmatched})`).run(params);
  db.prepare(`UPDATE samples SET pair_id = NULL WHERE dataset_id = @id AND pair_id IN (${unmatched})`).run(params);
}

export const importer: Importer = {
  format: 'primevul',
  unit: 'rows',
  async listInputs(settings) {
    return listJsonlFiles(settings.path);
  },
  async open(input, settings) {
    return openJsonl(input, (row, line) => primevulUnit(row, line, input, settings));
  },
  finalize(db, datasetId) {
    dropUnmatchedDerivedPairs(db, datasetId, DERIVED_PAIR);
  },
};

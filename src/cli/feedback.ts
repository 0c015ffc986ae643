import { bool, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { FEEDBACK_KINDS, feedbackCounts, isFeedbackKind, listFeedback, linkedKnowledge, type FeedbackKind, type FeedbackRow } from '../kb/feedback.js';
import { addFeedback, importSarif, type FeedbackTarget } from '../learn/feedback.js';
import { UsageError } from '../util/errors.js';

const ADD = 'feedback add';

export const feedbackAdd: CommandSpec = {
  name: ADD,
  summary: 'record that the student got something wrong: a sample, a function of a file, or a scan finding',
  description: [
    'What it is about, one of:',
    '  --sample ID                       a knowledge-base sample',
    '  --file F --function NAME | --line N   a C/C++ function of a file (extracted with tree-sitter)',
    '  --finding FINGERPRINT --report FILE   a finding of a scan (SARIF or finesec scan JSON), e.g. finesec/v1=...',
    'and --kind: false_positive (flagged but safe), false_negative (missed), wrong_cwe (flagged with the wrong CWE;',
    'give the right one with --cwe) or ungrounded (a report that does not hold up against the code).',
    'The code is checked against every valid/test split in the knowledge base (exact and near duplicates): an item',
    'from an evaluation split is recorded as refused, with the reason, and never learned. Code that is not a sample',
    'yet becomes one in the dataset "feedback", labelled by what the feedback says. Adding the same item again',
    'changes nothing. `finesec learn --from-feedback` learns from the accepted items.',
  ].join('\n'),
  options: {
    sample: { type: 'number', help: 'sample id', arg: 'ID' },
    file: { type: 'string', help: 'C/C++ source file', arg: 'FILE' },
    function: { type: 'string', help: 'function name in --file', arg: 'NAME' },
    line: { type: 'number', help: 'a line inside the function in --file', arg: 'N' },
    finding: { type: 'string', help: 'fingerprint of a scan finding (needs --report)', arg: 'FINGERPRINT' },
    report: { type: 'string', help: 'the scan output holding --finding (SARIF or finesec scan JSON)', arg: 'FILE' },
    root: { type: 'string', help: 'directory the report\'s file names are relative to (default: the report\'s own)', arg: 'DIR' },
    kind: { type: 'string', help: 'what went wrong', choices: FEEDBACK_KINDS, arg: 'KIND' },
    note: { type: 'string', help: 'free text kept with the item', arg: 'TEXT' },
    cwe: { type: 'string', help: 'the right CWE (wrong_cwe, false_negative)', arg: 'CWE' },
    'reported-cwe': { type: 'string', help: 'the CWE the student reported (taken from the finding when there is one)', arg: 'CWE' },
  },
  async run(ctx) {
    const a = ctx.args;
    const kindText = requireStr(a, ADD, 'kind');
    if (!isFeedbackKind(kindText)) throw new UsageError(`${ADD}: --kind must be one of ${FEEDBACK_KINDS.join(', ')}`);
    const kind: FeedbackKind = kindText;
    const sample = requireInt(a, ADD, 'sample', 1);
    const file = str(a, 'file');
    const finding = str(a, 'finding');
    const given = [sample !== undefined, file !== undefined, finding !== undefined].filter(Boolean).length;
    if (given !== 1) throw new UsageError(`${ADD}: give exactly one of --sample ID, --file FILE (with --function or --line), --finding FINGERPRINT (with --report)`);
    let target: FeedbackTarget;
    if (sample !== undefined) target = { sampleId: sample };
    else if (file !== undefined) {
      const fn = str(a, 'function');
      const line = requireInt(a, ADD, 'line', 1);
      target = { file, ...(fn !== undefined ? { functionName: fn } : {}), ...(line !== undefined ? { line } : {}) };
    } else {
      const report = str(a, 'report');
      if (!report) throw new UsageError(`${ADD}: --finding needs --report FILE (the SARIF or scan JSON that holds it)`);
      const root = str(a, 'root');
      target = { finding: finding!, report, ...(root !== undefined ? { root } : {}) };
    }
    const ws = openWorkspace(ctx.workspace, { create: true, logger: ctx.logger });
    try {
      const note = str(a, 'note');
      const cwe = str(a, 'cwe');
      const reported = str(a, 'reported-cwe');
      const { row, created } = await addFeedback(ws, {
        target,
        kind,
        ...(note !== undefined ? { note } : {}),
        ...(cwe !== undefined ? { cwe } : {}),
        ...(reported !== undefined ? { reportedCwe: reported } : {}),
      });
      const head = created ? `feedback #${row.id} recorded` : `feedback #${row.id} was already recorded`;
      const text = row.status === 'accepted' ? `${head}: accepted (${describe(row)})` : `${head}: REFUSED: ${row.reason}`;
      ctx.result({ created, feedback: row }, text);
    } finally {
      ws.close();
    }
  },
};

const IMPORT = 'feedback import-sarif';

export const feedbackImportSarif: CommandSpec = {
  name: IMPORT,
  summary: 'turn the dismissed results of a triaged SARIF log into false-positive feedback',
  positionals: 'FILE',
  description: [
    'A result counts as dismissed (a false positive) when it carries a suppression whose status is "accepted" or',
    'absent (finesec writes its inline and file suppressions so), or GitHub code scanning dismissal fields in its',
    'properties: state "dismissed" with dismissed_reason "false positive" (dismissed_comment becomes the note).',
    'Suppressions under review or rejected, and dismissals as "won\'t fix" or "used in tests", do not count;',
    'baselineState is not a judgement and is ignored (results whose baselineState is "absent" are skipped).',
    'Each dismissed result\'s function is read from its file (--root for where the files are) and checked against',
    'every evaluation split like any feedback. Results whose file or function cannot be found are recorded as',
    'rejections. Importing the same log again changes nothing.',
  ].join('\n'),
  options: {
    root: { type: 'string', help: 'directory the log\'s relative file names are in (default: its %SRCROOT%, else its folder)', arg: 'DIR' },
  },
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new UsageError(`${IMPORT}: expected one SARIF file (see finesec ${IMPORT} --help)`);
    const ws = openWorkspace(ctx.workspace, { create: true, logger: ctx.logger });
    try {
      const root = str(ctx.args, 'root');
      const s = await importSarif(ws, ctx.positionals[0]!, root !== undefined ? { root } : {});
      const lines = [
        `${s.file}: ${s.results} results, ${s.dismissed} dismissed as false positives: ${s.accepted} accepted, ${s.refused} refused, ${s.known} already recorded, ${s.unlocated} not found`,
        ...Object.entries(s.skipped).map(([why, n]) => `  skipped ${n}: ${why}`),
        ...s.feedback.filter((f) => f.status === 'refused').map((f) => `  refused #${f.id} ${f.file ?? ''} ${f.function ?? ''}: ${f.reason}`),
      ];
      ctx.result(s, lines.join('\n'));
    } finally {
      ws.close();
    }
  },
};

const LIST = 'feedback list';

export const feedbackList: CommandSpec = {
  name: LIST,
  summary: 'list feedback items: status (accepted/refused with reason), kind, source, and the knowledge they led to',
  options: {
    status: { type: 'string', help: 'only accepted or refused items', choices: ['accepted', 'refused'], arg: 'STATUS' },
    kind: { type: 'string', help: 'only this kind', choices: FEEDBACK_KINDS, arg: 'KIND' },
    source: { type: 'string', help: 'only this source', choices: ['user', 'sarif', 'eval'], arg: 'SOURCE' },
    limit: { type: 'number', help: 'show at most N items (the newest)', default: 50, arg: 'N' },
    all: { type: 'boolean', help: 'show every item', default: false },
  },
  async run(ctx) {
    const a = ctx.args;
    const limit = bool(a, 'all') ? undefined : requireInt(a, LIST, 'limit', 1);
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const status = str(a, 'status') as FeedbackRow['status'] | undefined;
      const kind = str(a, 'kind') as FeedbackKind | undefined;
      const source = str(a, 'source') as FeedbackRow['source'] | undefined;
      const rows = listFeedback(ws.db, { ...(status ? { status } : {}), ...(kind ? { kind } : {}), ...(source ? { source } : {}) });
      const shown = limit !== undefined ? rows.slice(-limit) : rows;
      const links = linkedKnowledge(ws.db, shown.map((r) => r.id));
      const items = shown.map((r) => ({ ...r, knowledge_ids: links.get(r.id) ?? [] }));
      const counts = feedbackCounts(ws.db);
      const lines = [
        `${rows.length} item(s)${shown.length < rows.length ? `, the newest ${shown.length} shown` : ''}; in the knowledge base: ` +
          (counts.length ? counts.map((c) => `${c.status} ${c.kind} (${c.source}) ${c.n}`).join(', ') : 'none'),
        ...items.map(
          (r) =>
            `  #${r.id} ${r.status.padEnd(8)} ${r.kind.padEnd(14)} ${r.source.padEnd(5)} ${describe(r)}` +
            (r.knowledge_ids.length ? ` -> knowledge ${r.knowledge_ids.join(', ')}` : '') +
            (r.status === 'refused' ? `\n      ${r.reason}` : ''),
        ),
      ];
      ctx.result({ total: rows.length, counts, items }, lines.join('\n'));
    } finally {
      ws.close();
    }
  },
};

function describe(r: FeedbackRow): string {
  const where = r.file ? `${r.file}${r.function_name ? ` ${r.function_name}` : ''}${r.start_line ? `:${r.start_line}` : ''}` : r.function_name ?? '';
  const parts = [r.sample_id !== null ? `sample ${r.sample_id}` : '', where, r.reported_cwe ? `reported ${r.reported_cwe}` : '', r.expected_cwe ? `right ${r.expected_cwe}` : '', r.note ? `"${r.note}"` : ''];
  return parts.filter(Boolean).join(', ');
}

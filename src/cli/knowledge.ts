import { requireInt, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { requireDataset } from '../kb/datasets.js';
import { getKnowledge, listKnowledge, type KnowledgeRow } from '../kb/knowledge.js';
import { InputError, UsageError } from '../util/errors.js';
import { knowledgeStats, type KnowledgeStats } from '../teacher/stats.js';
import { formatUsd } from '../teacher/cost.js';

export const command: CommandSpec = {
  name: 'knowledge',
  summary: 'inspect teacher knowledge: stats (acceptance by CWE, rejection reasons, spend) or show one record',
  positionals: 'stats | show ID',
  description: 'show takes a knowledge record id, or --sample N for the records of one sample.',
  options: {
    dataset: { type: 'string', help: 'only this dataset', arg: 'NAME' },
    teacher: { type: 'string', help: 'only this teacher id (as stored, e.g. reference)', arg: 'ID' },
    sample: { type: 'number', help: 'show: the records of this sample id', arg: 'N' },
  },
  async run(ctx) {
    const [action, idText] = ctx.positionals;
    if (action !== 'stats' && action !== 'show') throw new UsageError('knowledge: expected "stats" or "show ID" (see finesec knowledge --help)');
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const datasetName = str(ctx.args, 'dataset');
      const datasetId = datasetName ? requireDataset(ws.db, datasetName).id : undefined;
      const teacher = str(ctx.args, 'teacher');
      if (action === 'stats') {
        const stats = knowledgeStats(ws.db, { ...(datasetId !== undefined ? { datasetId } : {}), ...(teacher ? { teacher } : {}) });
        ctx.result(stats, statsText(stats));
        return;
      }
      const sampleId = requireInt(ctx.args, 'knowledge', 'sample', 1);
      let records: KnowledgeRow[];
      if (idText !== undefined) {
        if (!/^[1-9][0-9]*$/.test(idText)) throw new UsageError(`knowledge show: expected a record id, got "${idText}"`);
        const row = getKnowledge(ws.db, Number(idText));
        if (!row) throw new InputError(`knowledge show: no record with id ${idText}`);
        records = [row];
      } else if (sampleId !== undefined) {
        records = listKnowledge(ws.db, { sampleId, ...(teacher ? { teacher } : {}) });
        if (records.length === 0) throw new InputError(`knowledge show: sample ${sampleId} has no knowledge records`);
      } else {
        throw new UsageError('knowledge show: give a record id or --sample N');
      }
      const decoded = records.map(decode);
      ctx.result(decoded.length === 1 ? decoded[0] : decoded, decoded.map(recordText).join('\n\n'));
    } finally {
      ws.close();
    }
  },
};

function decode(row: KnowledgeRow) {
  return {
    ...row,
    hinted: row.hinted === 1,
    is_llm: row.is_llm === 1,
    verified: row.verified === 1,
    reasons: JSON.parse(row.reasons) as unknown,
    report: row.report === null ? null : (JSON.parse(row.report) as unknown),
    attempts: JSON.parse(row.attempts) as unknown,
    meta: JSON.parse(row.meta) as unknown,
  };
}

function recordText(r: ReturnType<typeof decode>): string {
  const lines = [
    `knowledge #${r.id}: sample ${r.sample_id}, ${r.status}${r.verified ? ' (checked against ground truth)' : ' (no ground truth to check)'}`,
    `  teacher ${r.teacher}${r.is_llm ? '' : ' (not an LLM)'}; prompt ${r.prompt_version} ${r.prompt_hash.slice(0, 12)}${r.hinted ? ', hinted' : ''}`,
    `  attempt ${r.attempt}; tokens ${r.prompt_tokens} + ${r.completion_tokens}; cost ${formatUsd(r.cost_usd)}; run ${r.run_id ?? '-'}; ${r.created_at}`,
  ];
  const reasons = r.reasons as Array<{ code: string; detail: string }>;
  for (const reason of reasons) lines.push(`  rejected: ${reason.code}: ${reason.detail}`);
  if (r.report) lines.push('  report:', indent(JSON.stringify(r.report, null, 2)));
  else if (r.raw_output !== null) lines.push('  raw output:', indent(r.raw_output));
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => '    ' + l)
    .join('\n');
}

function statsText(s: KnowledgeStats): string {
  if (s.records === 0) return 'no knowledge records yet (run finesec teach)';
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `${s.records} records: ${s.accepted} accepted, ${s.rejected} rejected (${pct(s.acceptanceRate)} accepted); ${s.verified} checked against ground truth, ${s.hinted} hinted, ${s.llm} from an LLM`,
    `spend: ${formatUsd(s.costUsd)}; tokens ${s.promptTokens} prompt + ${s.completionTokens} completion`,
    'acceptance by CWE (ground truth):',
    ...s.byCwe.map((c) => `  ${c.cwe.padEnd(22)} ${String(c.accepted).padStart(6)}/${String(c.records).padEnd(6)} ${pct(c.rate)}`),
  ];
  if (s.rejectionReasons.length) {
    lines.push('rejection reasons:', ...s.rejectionReasons.map((r) => `  ${r.code.padEnd(28)} ${r.count}`));
  }
  if (s.byTeacher.length > 1) {
    lines.push('by teacher:', ...s.byTeacher.map((t) => `  ${t.teacher} (${t.promptVersion}): ${t.accepted}/${t.records} accepted, ${formatUsd(t.costUsd)}`));
  }
  return lines.join('\n');
}

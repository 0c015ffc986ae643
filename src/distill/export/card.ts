import type { DistillSummary } from '../distill.js';
import type { ExampleFigures } from '../stats.js';
import type { ExportFormat } from './formats.js';

export interface CardInput {
  format: ExportFormat;
  /** Where the examples came from: a file, or a dataset's examples in the KB. */
  source: string;
  files: string[];
  figures: ExampleFigures;
  /** The distill run(s) that produced the examples, when the KB knows them. */
  runs: Array<Pick<DistillSummary, 'run' | 'decontamination' | 'balance' | 'studentFormDropped' | 'length' | 'selection'>>;
  /** Lines of the source file that were not valid examples (skipped). */
  malformed: number;
}

const HOW_TO: Record<ExportFormat, string[]> = {
  messages: ['`train.jsonl` is distill\'s output as is: one conversation per line (`messages`) with its metadata.'],
  sharegpt: ['`train.jsonl` holds `{"conversations": [{"from": "system" | "human" | "gpt", "value": ...}]}` records.'],
  alpaca: ['`train.jsonl` holds `{"instruction", "input", "output", "system"}` records (the user message is the instruction).'],
  trl: [
    'From this folder: `trl sft --config trl_sft.yaml` (set `model_name_or_path` first), or build `SFTConfig(**sft_config)`',
    'and `LoraConfig(**lora_config)` from `trl_sft_config.json` in your own script.',
    '`assistant_only_loss: true` (loss on the answers only, as finesec trains) needs a chat template with generation',
    'markers; set it to false for a template without them.',
  ],
  axolotl: ['From this folder: `axolotl train axolotl.yaml` (set `base_model` first).'],
  llamafactory: ['From this folder: `llamafactory-cli train llamafactory_sft.yaml` (set `model_name_or_path` and `template` first).'],
};

/** The data card (README.md of an export folder). */
export function renderCard(c: CardInput): string {
  const f = c.figures;
  const out: string[] = ['# finesec distilled examples', ''];
  out.push(`- Source: ${c.source}`);
  out.push(`- Format: ${c.format}; files: ${c.files.map((x) => `\`${x}\``).join(', ')}`);
  out.push(`- Examples: ${f.examples} from ${f.samples} samples (${f.knowledgeRecords} knowledge records) of ${f.datasets.join(', ') || 'no dataset'}`);
  if (c.malformed > 0) out.push(`- Skipped: ${c.malformed} malformed lines of the source`);
  out.push('', '## Training', '', ...HOW_TO[c.format], '');

  out.push('## Examples by task', '', '| task | examples | vulnerable | not vulnerable |', '|---|---:|---:|---:|');
  for (const t of f.byTask) out.push(`| ${t.task} | ${t.examples} | ${t.vulnerable} | ${t.not_vulnerable} |`);
  out.push('', '## Examples by label', '', '| label | examples |', '|---|---:|');
  out.push(`| vulnerable | ${f.byLabel.vulnerable} |`, `| not_vulnerable | ${f.byLabel.not_vulnerable} |`);
  out.push('', '## Examples by CWE', '', '| CWE | examples | vulnerable | not vulnerable |', '|---|---:|---:|---:|');
  for (const c2 of f.byCwe) out.push(`| ${c2.cwe} | ${c2.examples} | ${c2.vulnerable} | ${c2.not_vulnerable} |`);
  out.push('', `Pairs: ${f.pairs.examplesWithPair} examples carry vulnerable/fixed pair information; ${f.pairs.completePairs} pairs have both sides.`, '');

  out.push('## Tokens', '');
  if (f.tokens) {
    const t = f.tokens;
    out.push('Counted with the base model\'s tokenizer and chat template, over the whole conversation.', '');
    out.push('| counted | total | min | mean | p50 | p90 | p99 | max |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
    out.push(`| ${t.counted} | ${t.total} | ${t.min} | ${t.mean} | ${t.p50} | ${t.p90} | ${t.p99} | ${t.max} |`);
  } else {
    out.push('Not counted (distilled without `--base`).');
  }
  out.push('', '## Teachers', '', '| teacher | examples |', '|---|---:|');
  for (const t of f.teachers) out.push(`| ${t.teacher} | ${t.examples} |`);
  out.push('', '## Prompt versions', '', '| task | version | hash | examples |', '|---|---|---|---:|');
  for (const p of f.promptVersions) out.push(`| ${p.task} | ${p.version} | ${p.hash.slice(0, 16)} | ${p.examples} |`);

  if (c.runs.length > 0) {
    out.push('', '## Filtering (distill runs)', '');
    for (const r of c.runs) {
      const d = r.decontamination;
      out.push(`Run \`${r.run}\`:`, '');
      out.push(`- Knowledge: ${r.selection.records} accepted records used (${r.selection.invalid} invalid, ${r.selection.alternatives} alternatives not used)`);
      out.push(`- Decontamination against ${d.evalSamples} evaluation samples: ${d.droppedSamples} samples dropped (${d.exact} exact, ${d.near} near duplicates), ${d.droppedExamples} examples`);
      out.push(`- Balancing: ${r.balance.droppedByCap} dropped by the CWE cap, ${r.balance.droppedByRatio} by the positive/negative ratio; kept ${r.balance.after.positives} positive and ${r.balance.after.negatives} negative samples`);
      out.push(`- Report answers the student's schema cannot express: ${r.studentFormDropped}`);
      out.push(r.length ? `- Length filter: ${r.length.dropped} examples over ${r.length.maxTokens} tokens dropped (${r.length.chatFormat} template)` : '- Length filter: not applied');
      out.push('');
    }
  }
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

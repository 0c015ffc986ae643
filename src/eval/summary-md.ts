import { fmt, fmtDelta, fmtSeconds, fmtWithCi, METRIC_LABELS, shownMetrics } from './format.js';
import { resultLine, type EvalEntry, type EvalResults } from './results.js';

/**
 * summary.md: the models and baselines side by side (value [95% CI]), a before -> after delta
 * column for every model compared with the "before" one, cost, robustness, per-CWE recall and how
 * each baseline was mapped.
 */
export function renderSummary(r: EvalResults): string {
  const out: string[] = [];
  const s = r.suite;
  const available = r.models.filter((e) => e.available && e.metrics);
  out.push(`# Evaluation ${r.run.id}`, '');
  out.push(
    `Suite **${s.spec}**: ${s.samples} samples (${s.vulnerable} vulnerable, ${s.fixed} fixed), ${s.pairs} vulnerable/fixed pairs` +
      (s.limit !== null ? `; --limit ${s.limit} of ${s.available} (seed ${s.seed})` : '') +
      (s.unlabeled_skipped > 0 ? `; ${s.unlabeled_skipped} unlabeled samples left out` : '') +
      '.',
  );
  out.push(`Greedy decoding (temperature 0), at most ${r.config.max_tokens} generated tokens per report; 95% bootstrap intervals in brackets.`, '');

  const comparisons = new Map(r.comparisons.map((c) => [c.after, c]));
  const metrics = shownMetrics(available);
  const header = ['Metric'];
  for (const e of available) {
    header.push(`${e.name}${e.kind === 'baseline' ? ' (baseline)' : e.name === r.before && comparisons.size > 0 ? ' (before)' : ''}`);
    if (comparisons.has(e.name)) header.push(`Δ ${e.name} vs ${r.before}`);
  }
  out.push('## Metrics', '');
  if (available.length === 0) out.push('No model or baseline produced results.', '');
  else {
    out.push(row(header), row(header.map(() => '---')));
    for (const m of metrics) {
      const cells = [METRIC_LABELS[m]];
      for (const e of available) {
        cells.push(fmtWithCi(e, m));
        const c = comparisons.get(e.name);
        if (c) cells.push(fmtDelta(c.deltas[m]));
      }
      out.push(row(cells));
    }
    out.push('');
  }

  out.push('## Confusion and cost', '');
  out.push(row(['Name', 'TP', 'FP', 'TN', 'FN', 'Pairs', 'Latency mean', 'Latency p95', 'Tokens/s', 'Peak RSS (MB)', 'Load']));
  out.push(row(Array(11).fill('---')));
  for (const e of available) {
    const m = e.metrics!;
    out.push(
      row([
        e.name,
        String(m.tp),
        String(m.fp),
        String(m.tn),
        String(m.fn),
        String(m.paired.pairs),
        fmtSeconds(m.cost.latency_mean),
        fmtSeconds(m.cost.latency_p95),
        fmt(m.cost.tokens_per_second, 1),
        fmt(m.cost.peak_rss_mb, 0),
        fmtSeconds(m.cost.load_seconds),
      ]),
    );
  }
  out.push('');

  const models = available.filter((e) => e.kind === 'model' && e.metrics!.quality);
  if (models.length > 0) {
    out.push('## Report quality', '');
    out.push(row(['Name', 'Schema-valid', 'Grounded', 'Grounding pass', 'No verdict', 'Partial verdict', 'Root cause', 'Trigger', 'Impact', 'Remediation', 'Statuses']));
    out.push(row(Array(11).fill('---')));
    for (const e of models) {
      const q = e.metrics!.quality!;
      out.push(
        row([
          e.name,
          fmt(q.schema_valid),
          fmt(q.grounded),
          fmt(q.grounding_pass),
          fmt(q.no_verdict),
          fmt(q.partial_verdict),
          fmt(q.completeness.root_cause),
          fmt(q.completeness.trigger),
          fmt(q.completeness.impact),
          fmt(q.completeness.remediation),
          Object.entries(q.statuses).map(([k, v]) => `${k} ${v}`).join(', '),
        ]),
      );
    }
    out.push('');
  }

  if (r.robustness) {
    out.push('## Robustness (verdict flip rate under semantics-preserving rewrites)', '');
    const rewrites = Object.keys(r.robustness.rewrites);
    out.push(`Rewritten variants per rewrite: ${rewrites.map((k) => `${k} ${r.robustness!.rewrites[k as keyof typeof r.robustness.rewrites]}`).join(', ')}.`, '');
    out.push(row(['Name', ...rewrites, 'overall']));
    out.push(row(Array(rewrites.length + 2).fill('---')));
    for (const e of available) {
      if (!e.robustness) continue;
      const cells = rewrites.map((k) => {
        const c = e.robustness!.rewrites[k as keyof typeof e.robustness.rewrites];
        return `${fmt(c.flip_rate)} (${c.flips}/${c.applicable})`;
      });
      out.push(row([e.name, ...cells, `${fmt(e.robustness.overall.flip_rate)} (${e.robustness.overall.flips}/${e.robustness.overall.applicable})`]));
    }
    out.push('');
  }

  const cwes = topCwes(available, 15);
  if (cwes.length > 0) {
    out.push('## Recall by CWE (most frequent CWEs of the suite)', '');
    out.push(row(['CWE', 'Vulnerable', 'Fixed', ...available.map((e) => e.name)]));
    out.push(row(Array(available.length + 3).fill('---')));
    for (const c of cwes) {
      const first = available[0]!.metrics!.per_cwe.find((p) => p.cwe === c)!;
      out.push(row([`${c} ${first.name}`, String(first.vulnerable), String(first.fixed), ...available.map((e) => fmt(e.metrics!.per_cwe.find((p) => p.cwe === c)?.recall))]));
    }
    out.push('');
  }

  const baselines = r.models.filter((e) => e.kind === 'baseline');
  if (baselines.length > 0) {
    out.push('## Baselines', '');
    for (const b of baselines) {
      out.push(`- **${b.name}**${b.version ? ` (${b.version})` : ''}: ${b.available ? (b.mapping ?? '') : `skipped: ${b.note ?? 'unavailable'}`}`);
    }
    out.push('');
  }
  const notes = r.models.filter((e) => e.available && e.note);
  if (notes.length > 0) {
    out.push('## Notes', '');
    for (const e of notes) out.push(`- ${e.name}: ${e.note}`);
    out.push('');
  }
  out.push('```', ...r.models.map(resultLine), '```', '');
  return out.join('\n');
}

function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** The CWEs with the most samples, in the first entry's order (all entries share the suite). */
export function topCwes(entries: readonly EvalEntry[], n: number): string[] {
  const first = entries.find((e) => e.metrics);
  return first ? first.metrics!.per_cwe.slice(0, n).map((c) => c.cwe) : [];
}

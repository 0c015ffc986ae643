import { getCwe } from '../cwe/index.js';
import { parseStudentReport } from '../runtime/generate-report.js';
import { codeLines } from '../runtime/report-prompt.js';
import type { VulnerabilityReport } from '../report/schema.js';
import { fmt, fmtDelta, fmtSeconds, fmtWithCi, improves, METRIC_LABELS, shownMetrics } from './format.js';
import type { Prediction } from './prediction.js';
import { headline, resultLine, type EvalEntry, type EvalResults, type HeadlineMetric, type ResultSample } from './results.js';
import { topCwes } from './summary-md.js';
import { confusionMatrix, escapeHtml as h, groupedBars } from './svg.js';

/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no external resources):
 * the metrics table, charts (before/after, per-CWE recall, confusion matrices, robustness) and,
 * for a few chosen samples, the code with its flaw lines next to the "before" model's report and
 * the student's.
 */
const CHART_METRICS: HeadlineMetric[] = ['accuracy', 'precision', 'recall', 'f1', 'mcc', 'P-C', 'cwe_hierarchical', 'schema_valid', 'grounded'];
const MAX_CHOSEN = 6;

export function renderReportHtml(r: EvalResults): string {
  const available = r.models.filter((e) => e.available && e.metrics);
  const body: string[] = [];
  const s = r.suite;
  body.push(`<h1>Evaluation ${h(r.run.id)}</h1>`);
  body.push(
    `<p class="lead">Suite <b>${h(s.spec)}</b>: ${s.samples} samples (${s.vulnerable} vulnerable, ${s.fixed} fixed), ${s.pairs} pairs` +
      (s.limit !== null ? `; limit ${s.limit} of ${s.available} (seed ${s.seed})` : '') +
      `. Greedy decoding, at most ${r.config.max_tokens} generated tokens. Finished ${h(r.run.finished_at)} in ${fmtSeconds(r.run.seconds)}.</p>`,
  );
  body.push(metricsTable(r, available));
  body.push(costTable(available));

  const models = available.filter((e) => e.kind === 'model');
  const compared = r.comparisons.length > 0 ? models : available;
  const chartMetrics = CHART_METRICS.filter((m) => compared.some((e) => headline(e, m) !== null));
  if (compared.length > 0 && chartMetrics.length > 0) {
    const title = r.comparisons.length > 0 ? `Before (${r.before}) and after` : 'Headline metrics';
    body.push(`<h2>${r.comparisons.length > 0 ? 'Before and after' : 'Headline metrics'}</h2>`);
    body.push(groupedBars(title, chartMetrics.map((m) => METRIC_LABELS[m]), compared.map((e) => ({ name: e.name, values: chartMetrics.map((m) => headline(e, m)) }))));
  }
  const cwes = topCwes(available, 15);
  if (cwes.length > 0) {
    body.push('<h2>Recall by CWE</h2>');
    body.push(
      groupedBars(
        'Recall on vulnerable samples, most frequent CWEs',
        cwes,
        available.map((e) => ({ name: e.name, values: cwes.map((c) => e.metrics!.per_cwe.find((p) => p.cwe === c)?.recall ?? null) })),
      ),
    );
  }
  if (available.length > 0) {
    body.push('<h2>Confusion matrices</h2><div class="row">');
    for (const e of available) body.push(confusionMatrix(e.name, e.metrics!));
    body.push('</div>');
  }
  const robust = available.filter((e) => e.robustness);
  if (r.robustness && robust.length > 0) {
    const rewrites = Object.keys(r.robustness.rewrites) as Array<keyof typeof r.robustness.rewrites>;
    body.push('<h2>Robustness</h2>');
    body.push(`<p>Verdict flip rate under semantics-preserving rewrites (variants: ${rewrites.map((k) => `${h(k)} ${r.robustness!.rewrites[k]}`).join(', ')}).</p>`);
    body.push(groupedBars('Flip rate by rewrite', [...rewrites, 'overall'], robust.map((e) => ({ name: e.name, values: [...rewrites.map((k) => e.robustness!.rewrites[k].flip_rate), e.robustness!.overall.flip_rate] }))));
  }
  body.push(chosenSamples(r, available));
  const baselines = r.models.filter((e) => e.kind === 'baseline');
  if (baselines.length > 0) {
    body.push('<h2>Baselines</h2><ul>');
    for (const b of baselines) body.push(`<li><b>${h(b.name)}</b>${b.version ? ` (${h(b.version)})` : ''}: ${h(b.available ? (b.mapping ?? '') : `skipped: ${b.note ?? 'unavailable'}`)}</li>`);
    body.push('</ul>');
  }
  body.push(`<pre class="result-lines">${h(r.models.map(resultLine).join('\n'))}</pre>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>finesec eval ${h(r.run.id)}</title>
<style>${CSS}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

function metricsTable(r: EvalResults, entries: readonly EvalEntry[]): string {
  if (entries.length === 0) return '<p>No model or baseline produced results.</p>';
  const comparisons = new Map(r.comparisons.map((c) => [c.after, c]));
  const head: string[] = ['<th>Metric</th>'];
  for (const e of entries) {
    const tag = e.kind === 'baseline' ? ' <span class="tag">baseline</span>' : e.name === r.before && comparisons.size > 0 ? ' <span class="tag">before</span>' : '';
    head.push(`<th>${h(e.name)}${tag}</th>`);
    if (comparisons.has(e.name)) head.push(`<th>Δ vs ${h(r.before ?? '')}</th>`);
  }
  const rows = shownMetrics(entries).map((m) => {
    const cells = [`<th scope="row">${h(METRIC_LABELS[m])}</th>`];
    for (const e of entries) {
      cells.push(`<td>${h(fmtWithCi(e, m))}</td>`);
      const c = comparisons.get(e.name);
      if (c) {
        const better = improves(m, c.deltas[m] ?? null);
        cells.push(`<td class="${better === null ? '' : better ? 'up' : 'down'}">${h(fmtDelta(c.deltas[m]))}</td>`);
      }
    }
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<h2>Metrics</h2><p class="note">Value [95% bootstrap interval]. Δ is after − before; green is better.</p><table id="metrics"><thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function costTable(entries: readonly EvalEntry[]): string {
  if (entries.length === 0) return '';
  const rows = entries.map((e) => {
    const m = e.metrics!;
    const cells = [e.name, String(m.tp), String(m.fp), String(m.tn), String(m.fn), fmtSeconds(m.cost.latency_mean), fmtSeconds(m.cost.latency_p95), fmt(m.cost.tokens_per_second, 1), fmt(m.cost.peak_rss_mb, 0)];
    return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${h(c)}</th>` : `<td>${h(c)}</td>`)).join('')}</tr>`;
  });
  return `<h2>Counts and cost</h2><table id="cost"><thead><tr><th>Name</th><th>TP</th><th>FP</th><th>TN</th><th>FN</th><th>Latency mean</th><th>Latency p95</th><th>Tokens/s</th><th>Peak RSS (MB)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/**
 * Samples shown in full: where the "before" model and the first other model disagree (the
 * student right first), then vulnerable samples, up to MAX_CHOSEN, in sample order. Columns: the
 * "before" model and the first student; with fewer than two models, the baselines too.
 */
export function chooseSamples(r: EvalResults): { columns: EvalEntry[]; samples: ResultSample[] } {
  const models = r.models.filter((e) => e.available && e.kind === 'model');
  const before = models.find((e) => e.name === r.before);
  const after = r.comparisons.length > 0 ? models.find((e) => e.name === r.comparisons[0]!.after) : undefined;
  const columns = before && after ? [before, after] : models.slice(0, 2);
  // Fewer than two models: the baselines' findings fill the view.
  if (columns.length < 2) columns.push(...r.models.filter((e) => e.available && e.kind === 'baseline').slice(0, 3 - columns.length));
  const picked: ResultSample[] = [];
  const add = (list: ResultSample[]): void => {
    for (const s of list) if (picked.length < MAX_CHOSEN && !picked.includes(s)) picked.push(s);
  };
  if (before && after) {
    const b = new Map(before.predictions.map((p) => [p.sample_id, p]));
    const a = new Map(after.predictions.map((p) => [p.sample_id, p]));
    add(r.samples.filter((s) => a.get(s.id)?.correct && !b.get(s.id)?.correct));
    add(r.samples.filter((s) => !a.get(s.id)?.correct && b.get(s.id)?.correct));
  }
  add(r.samples.filter((s) => s.label === 1));
  add(r.samples);
  return { columns, samples: picked };
}

function chosenSamples(r: EvalResults, available: readonly EvalEntry[]): string {
  if (available.length === 0 || r.samples.length === 0) return '';
  const { columns, samples } = chooseSamples(r);
  const out: string[] = ['<h2>Chosen samples</h2>'];
  out.push(`<p class="note">Code with its ground-truth flaw lines highlighted, next to ${columns.map((c) => h(c.name)).join(' and ')}.</p>`);
  for (const s of samples) {
    const label = s.label === 1 ? `vulnerable (${s.cwes.join(', ') || 'no CWE'})` : `not vulnerable${s.cwes.length ? ` (fixed ${s.cwes.join(', ')})` : ''}`;
    out.push(`<section class="sample" id="sample-${s.id}"><h3>Sample ${s.id}: ${h(label)}</h3><div class="cols">`);
    out.push(`<div class="col code">${codeBlock(s)}</div>`);
    for (const c of columns) {
      const p = c.predictions.find((x) => x.sample_id === s.id);
      out.push(`<div class="col"><h4>${h(c.name)}</h4>${p ? predictionHtml(p) : '<p>no prediction</p>'}</div>`);
    }
    out.push('</div></section>');
  }
  return out.join('\n');
}

function codeBlock(s: ResultSample): string {
  const flaws = new Set(s.flaw_lines);
  const lines = codeLines(s.code);
  const width = String(lines.length).length;
  const html = lines.map((l, i) => `<span class="${flaws.has(i + 1) ? 'line flaw' : 'line'}"><span class="ln">${String(i + 1).padStart(width)}</span> ${h(l)}</span>`).join('\n');
  const pre = `<pre>${html}</pre>`;
  return lines.length > 80 ? `<details><summary>${lines.length} lines of ${s.language === 'cpp' ? 'C++' : 'C'}</summary>${pre}</details>` : pre;
}

function predictionHtml(p: Prediction): string {
  const verdict = p.verdict ? p.verdict.replace('_', ' ') : 'no verdict';
  const head = `<p class="${p.correct ? 'ok' : 'bad'}"><b>${h(verdict)}</b> (${p.correct ? 'correct' : 'wrong'}; ${h(p.status)}${p.verdict_source === 'partial' ? ', verdict from a cut-off report' : ''})</p>`;
  if (p.tool_findings) {
    const counted = p.tool_findings.filter((f) => f.counts);
    const items = (counted.length > 0 ? counted : p.tool_findings).slice(0, 12);
    const list = items.map((f) => `<li>${f.line !== null ? `line ${f.line}: ` : ''}${h(f.rule)} [${h(f.severity)}${f.cwe ? `, ${h(f.cwe)}` : ''}] ${h(f.message)}</li>`).join('');
    return head + (items.length > 0 ? `<ul>${list}</ul>` : '<p>no findings</p>') + (p.error ? `<p class="note">${h(p.error)}</p>` : '');
  }
  const parsed = parseStudentReport(p.raw);
  if (parsed.ok) return head + reportHtml(parsed.report) + (p.error ? `<p class="note">${h(p.error)}</p>` : '');
  const raw = p.raw.length > 1500 ? p.raw.slice(0, 1500) + '…' : p.raw;
  return head + (p.error ? `<p class="note">${h(p.error)}</p>` : '') + (raw ? `<pre class="raw">${h(raw)}</pre>` : '');
}

function reportHtml(r: VulnerabilityReport): string {
  const parts: string[] = [];
  for (const f of r.findings) {
    const name = getCwe(f.cwe)?.name;
    parts.push(`<div class="finding"><p><b>${h(f.title)}</b><br>${h(f.cwe)}${name ? ` ${h(name)}` : ''} · ${h(f.severity)} · lines ${f.location.start_line}-${f.location.end_line} · confidence ${f.confidence.toFixed(2)}</p>`);
    parts.push(`<pre>${h(f.fragment)}</pre>`);
    parts.push(`<dl><dt>Root cause</dt><dd>${h(f.root_cause)}</dd><dt>Trigger</dt><dd>${h(f.trigger)}</dd><dt>Impact</dt><dd>${h(f.impact)}</dd><dt>Remediation</dt><dd>${h(f.remediation)}</dd></dl></div>`);
  }
  if (r.reasoning.length > 0) parts.push(`<ol class="reasoning">${r.reasoning.map((s) => `<li>${h(s)}</li>`).join('')}</ol>`);
  return parts.join('');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#1d2330}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #dde;padding-bottom:4px}h3{font-size:15px}h4{margin:0 0 6px}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}th,td{border:1px solid #d6d9e0;padding:4px 8px;text-align:right}
thead th{background:#f1f3f8}tbody th{text-align:left;font-weight:600;background:#fafbfd}
td.up{color:#217a35;font-weight:600}td.down{color:#b3261e;font-weight:600}
.tag{font-size:11px;background:#e6e9f2;border-radius:3px;padding:0 4px;font-weight:normal}
.note{color:#5a6172;font-size:13px}.lead{font-size:15px}
.row{display:flex;flex-wrap:wrap;gap:12px}
.chart{background:#fff;border:1px solid #e3e6ee;border-radius:4px;margin:6px 0}
.chart-title{font-size:13px;font-weight:600;fill:#1d2330}.tick{font-size:11px;fill:#4a5160}.na{font-size:9px;fill:#999}.cm{font-size:15px;font-weight:600;fill:#1d2330}
.grid{stroke:#eceef3;stroke-width:1}
.sample{border:1px solid #e3e6ee;border-radius:4px;padding:8px 12px;margin:12px 0}
.cols{display:flex;gap:12px;align-items:flex-start}.col{flex:1;min-width:0}.col.code{flex:1.3}
pre{background:#f6f7fa;padding:8px;overflow:auto;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre}
.line{display:inline-block;width:100%}.line.flaw{background:#ffe2dd}.ln{color:#9aa0ad;user-select:none}
.ok{color:#217a35}.bad{color:#b3261e}.finding{border-left:3px solid #ef8a3b;padding-left:8px;margin:8px 0}
dl{margin:4px 0}dt{font-weight:600}dd{margin:0 0 4px 12px}.raw{max-height:240px}
.result-lines{margin-top:32px}
`;

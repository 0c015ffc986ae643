import { getCwe } from '../cwe/index.js';
import { PRIMARY_FINGERPRINT } from './fingerprint.js';
import { summariseFindings } from './summary.js';
import { SEVERITIES, type ScanFinding, type ScanResult } from './types.js';

/**
 * The scan as a Markdown document for people: what was scanned, a summary by severity and CWE,
 * every finding (CWE, location, root cause, trigger, impact, remediation, evidence chain, fix),
 * then suppressed findings with their reasons, the prefilter's agreement and everything skipped.
 */
export function renderMarkdown(result: ScanResult): string {
  const out: string[] = ['# finesec scan report', ''];
  const s = result.stats;
  const summary = summariseFindings(result.findings);
  out.push(
    `Scanned ${s.files.scanned} file${s.files.scanned === 1 ? '' : 's'} and ${s.functions.analysed} function${s.functions.analysed === 1 ? '' : 's'} ` +
      `under \`${result.root}\` with \`${result.model.spec}\`: **${summary.total} finding${summary.total === 1 ? '' : 's'}**` +
      (result.suppressed.length ? `, ${result.suppressed.length} suppressed` : '') +
      (result.baseline ? `, ${result.baseline.matched} already in the baseline \`${result.baseline.file}\` (not shown)` : '') +
      '.',
    '',
  );
  if (!result.successful) out.push('**The scan did not complete: see the errors under "Skipped and problems".**', '');

  out.push('## Summary', '', '| Severity | Findings |', '| --- | ---: |');
  for (const sev of SEVERITIES) out.push(`| ${sev} | ${summary.bySeverity[sev]} |`);
  out.push('');
  if (summary.byCwe.length > 0) {
    out.push('| CWE | Name | Findings |', '| --- | --- | ---: |');
    for (const c of summary.byCwe) out.push(`| [${c.cwe}](${cweUrl(c.cwe)}) | ${cell(c.name ?? '')} | ${c.count} |`);
    out.push('');
  }
  out.push(
    `Files: ${s.files.scanned} scanned, ${s.files.skipped} skipped, ${s.files.gitignored} ignored by .gitignore, ` +
      `${s.files.vendored} vendored directories left out, ${s.files.filtered} excluded by filters` +
      (s.files.unchanged ? `, ${s.files.unchanged} unchanged` : '') +
      `. Functions: ${s.functions.total} found, ${s.functions.analysed} analysed (${s.functions.cacheHits} cache hits, ` +
      `${plural(s.functions.modelCalls, 'model call')}), ${s.functions.split} split, ${s.functions.skipped} skipped` +
      (s.functions.notFlagged ? `, ${s.functions.notFlagged} not flagged by the prefilter` : '') +
      `. ${plural(s.findings.dropped, 'ungrounded finding')} dropped.`,
    '',
  );

  if (result.findings.length > 0) {
    out.push('## Findings', '');
    result.findings.forEach((f, i) => out.push(...renderFinding(f, i + 1), ''));
  }

  if (result.suppressed.length > 0) {
    out.push(`## Suppressed (${result.suppressed.length})`, '');
    for (const f of result.suppressed) {
      out.push(`- \`${f.file}:${f.region.startLine}\` ${f.cwe} ${f.title}: ${f.suppression!.reason} (${f.suppression!.kind === 'inSource' ? 'inline' : 'suppressions file'} \`${f.suppression!.where}\`)`);
    }
    out.push('');
  }

  if (result.prefilter) {
    const p = result.prefilter;
    out.push(`## Static analyzer: ${p.tool} (${p.version}), mode ${p.mode}`, '');
    out.push(
      `- ${p.hits} hit${p.hits === 1 ? '' : 's'} in ${p.functionsFlagged} function${p.functionsFlagged === 1 ? '' : 's'} (${p.hitsOutsideFunctions} outside functions)`,
      `- findings backed by a ${p.tool} hit on the same lines: ${p.agreed}`,
      `- findings only the student reports: ${p.studentOnly}`,
      `- ${p.tool} hits no finding covers: ${p.toolOnly}`,
    );
    if (p.toolOnlyHits.length > 0) {
      out.push('', `| ${p.tool} only | Rule | CWE | Message |`, '| --- | --- | --- | --- |');
      for (const h of p.toolOnlyHits.slice(0, 100)) out.push(`| \`${h.file}:${h.line}\` (${cell(h.function)}) | ${cell(h.rule)} | ${h.cwe ?? ''} | ${cell(h.message)} |`);
      if (p.toolOnlyHits.length > 100) out.push(`| ... ${p.toolOnlyHits.length - 100} more | | | |`);
    }
    out.push('');
  }

  if (result.notifications.length > 0) {
    out.push(`## Skipped and problems (${result.notifications.length})`, '', '| Level | Kind | Where | Reason |', '| --- | --- | --- | --- |');
    for (const n of result.notifications) {
      const where = n.file ? `\`${n.file}${n.line ? `:${n.line}` : ''}\`` : '';
      out.push(`| ${n.level} | ${n.id} | ${where} | ${cell(n.message)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function renderFinding(f: ScanFinding, n: number): string[] {
  const name = getCwe(f.cwe)?.name;
  const lines = f.region.startLine === f.region.endLine ? `${f.region.startLine}` : `${f.region.startLine}-${f.region.endLine}`;
  const out = [
    `### ${n}. [${f.severity.toUpperCase()}] ${f.title}`,
    '',
    `- **CWE:** [${f.cwe}](${cweUrl(f.cwe)})${name ? ` ${name}` : ''}`,
    `- **Location:** \`${f.file}:${lines}\` in \`${f.function}\` (lines ${f.functionStartLine}-${f.functionEndLine})`,
    `- **Confidence:** ${f.confidence.toFixed(2)}`,
    `- **Fingerprint:** \`${f.fingerprints[PRIMARY_FINGERPRINT] ?? ''}\``,
  ];
  if (f.prefilter) {
    const p = f.prefilter;
    out.push(
      p.agrees
        ? `- **${p.tool}:** agrees${p.sameWeakness ? ', same weakness' : ', another CWE'} (${p.backing.map((h) => `line ${h.line} ${h.rule}${h.cwe ? ` ${h.cwe}` : ''}`).join('; ')})`
        : `- **${p.tool}:** no hit on these lines`,
    );
  }
  out.push('', fence(f.fragment), '');
  out.push(`**Root cause.** ${f.root_cause}`, '', `**Trigger.** ${f.trigger}`, '', `**Impact.** ${f.impact}`, '', '**Evidence.**', '');
  f.evidence.forEach((e, i) => out.push(`${i + 1}. \`${f.file}:${e.line}\`: ${e.step}`));
  out.push('', `**Remediation.** ${f.remediation}`);
  if (f.fix !== undefined) out.push('', '**Fix.**', '', fence(f.fix));
  return out;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function cweUrl(id: string): string {
  return `https://cwe.mitre.org/data/definitions/${id.replace(/^CWE-/, '')}.html`;
}

function fence(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}c\n${code.replace(/\n+$/, '')}\n${ticks}`;
}

/** Text safe inside a table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

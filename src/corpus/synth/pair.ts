import { getCwe } from '../../cwe/index.js';
import type { Finding, VulnerabilityReport } from '../../report/schema.js';
import { assembleUnit, dedentLines, sliceLines, type CodeStyle, type Unit } from './assemble.js';
import { includeLine, type CharType, type Header, type Language, type Line } from './code.js';
import { Names } from './names.js';
import { Rng } from './rng.js';
import { intSource, stringSource, wideSources, type SourceKind } from './sources.js';
import type { ExplainContext, Explanation, SynthTemplate, TemplateParts, Variant } from './template.js';
import { applyWrapper, planWrapper, type WrapperKind } from './wrappers.js';

export interface SynthSample {
  /** Stable id: synth:<seed>:<pair index>:<v|f>. */
  id: string;
  code: string;
  language: Language;
  label: 0 | 1;
  cwe: string;
  pairId: string;
  /** Template + wrapper: near-identical siblings share it, so group splits keep them together. */
  groupId: string;
  /** The entry function (the one that obtains the data). */
  functionName: string;
  report: VulnerabilityReport;
  /** Lines of the flawed statements (vulnerable variant; empty for the fixed one). */
  flawLines: number[];
  /** Lines of the corrected statements (fixed variant; empty for the vulnerable one). */
  fixLines: number[];
  templateId: string;
  form: string;
  wrapper: WrapperKind;
  source: SourceKind;
  charType: CharType;
  seed: number;
  pairIndex: number;
  variant: Variant;
}

export interface PairChoice {
  template: SynthTemplate;
  wrapper: WrapperKind;
  source: SourceKind;
  language: Language;
  seed: number;
  index: number;
}

/** Builds one vulnerable/fixed pair. Everything random is drawn from the pair's own stream. */
export function buildPair(choice: PairChoice): [SynthSample, SynthSample] {
  const { template, wrapper, source, language, seed, index } = choice;
  const rng = new Rng(seed, `pair/${index}`);
  const style: CodeStyle = { indent: rng.pick(['    ', '    ', '  ', '\t'] as const), allman: rng.chance(0.4) };
  const names = new Names(rng, rng.chance(0.5) ? 'snake' : 'camel');
  const entry = names.fn();
  const wideOk = (template.charTypes ?? ['char']).includes('wchar_t') && wideSources.includes(source);
  const charType: CharType = wideOk && rng.chance(0.35) ? 'wchar_t' : 'char';
  const sourceCtx = { rng, names, kind: source, entry };
  const parts = template.build({
    rng,
    names,
    language,
    sourceKind: source,
    charType,
    entry,
    stringSource: (opts) => stringSource(sourceCtx, opts),
    intSource: (opts) => intSource(sourceCtx, opts),
  });
  const plan = planWrapper(wrapper, rng, names);
  const headers = rng.shuffle(unique<Header>([...parts.source.headers, ...parts.headers]));
  rng.freeze();
  const flow = parts.flow ?? [{ name: parts.source.facts.name, type: parts.source.facts.paramType }];
  const includes = headers.map((h) => includeLine(h, language));
  const params = parts.source.params.length ? parts.source.params.join(', ') : 'void';
  const signature: Line = parts.source.tagSignature ? { text: `void ${entry}(${params})`, tags: ['src'] } : `void ${entry}(${params})`;

  const units = {} as Record<Variant, Unit>;
  let sinkFunction = entry;
  for (const variant of ['vulnerable', 'fixed'] as const) {
    const wrapped = applyWrapper(plan, parts.sink(variant), flow, entry);
    sinkFunction = wrapped.sinkFunction;
    units[variant] = assembleUnit(
      { includes, globals: [parts.globals?.(variant) ?? [], wrapped.globals], signature, body: [...parts.source.lines, ...wrapped.body] },
      style,
    );
  }

  const ctx = explainContext(units, parts, sinkFunction, entry, language);
  const exp = parts.explain(ctx);
  const base = {
    language,
    cwe: template.cwe,
    pairId: `synth:${seed}:${index}`,
    groupId: `synth/${template.id}/${wrapper}`,
    functionName: entry,
    templateId: template.id,
    form: parts.form,
    wrapper,
    source,
    charType,
    seed,
    pairIndex: index,
  };
  const vulnerable: SynthSample = {
    ...base,
    id: `synth:${seed}:${index}:v`,
    code: units.vulnerable.code,
    label: 1,
    report: vulnerableReport(template, parts, exp, ctx, units, plan.kind === 'helper' ? plan.name : undefined, flow.map((f) => f.name)),
    flawLines: ctx.vAll('flaw'),
    fixLines: [],
    variant: 'vulnerable',
  };
  const fixed: SynthSample = {
    ...base,
    id: `synth:${seed}:${index}:f`,
    code: units.fixed.code,
    label: 0,
    report: fixedReport(template, parts, exp, ctx),
    flawLines: [],
    fixLines: units.fixed.tags.get('fix') ?? [],
    variant: 'fixed',
  };
  return [vulnerable, fixed];
}

function explainContext(units: Record<Variant, Unit>, parts: TemplateParts, sinkFunction: string, entry: string, language: Language): ExplainContext {
  const all = (variant: Variant, tag: string): number[] => units[variant].tags.get(tag) ?? [];
  const first = (variant: Variant, tag: string): number => {
    const lines = all(variant, tag);
    if (lines.length === 0) throw new Error(`synth template bug: no line tagged "${tag}" in the ${variant} code`);
    return lines[0]!;
  };
  return {
    v: (tag) => first('vulnerable', tag),
    vAll: (tag) => all('vulnerable', tag),
    f: (tag) => first('fixed', tag),
    fAll: (tag) => all('fixed', tag),
    src: parts.source.facts,
    sinkFunction,
    entry,
    language,
  };
}

function vulnerableReport(
  template: SynthTemplate,
  parts: TemplateParts,
  exp: Explanation,
  x: ExplainContext,
  units: Record<Variant, Unit>,
  helper: string | undefined,
  flowNames: string[],
): VulnerabilityReport {
  const flaw = x.vAll('flaw');
  const span = [...flaw, ...x.vAll('loc')];
  const fixLines = x.fAll('fix');
  const evidence = parts.source.facts.steps.map((s) => ({ line: x.v(s.tag), step: s.text }));
  if (helper) {
    evidence.push({ line: x.v('call'), step: `\`${x.entry}\` passes \`${flowNames.join('`, `')}\` to \`${helper}\`, where the rest happens` });
  }
  evidence.push(...exp.steps.map((s) => ({ line: s.line, step: s.text })));
  const finding: Finding = {
    cwe: template.cwe,
    title: exp.title,
    severity: exp.severity,
    location: { function: exp.flawFunction ?? x.sinkFunction, start_line: Math.min(...span), end_line: Math.max(...span) },
    fragment: sliceLines(units.vulnerable.lines, Math.min(...flaw), Math.max(...flaw)),
    root_cause: exp.rootCause,
    trigger: exp.trigger,
    impact: exp.impact,
    remediation: exp.remediation,
    evidence,
    ...(fixLines.length ? { fix: dedentLines(units.fixed.lines, Math.min(...fixLines), Math.max(...fixLines)) } : {}),
    confidence: 1,
  };
  const name = getCwe(template.cwe)?.name ?? template.cwe;
  return {
    verdict: 'vulnerable',
    findings: [finding],
    reasoning: [
      `Line ${x.v('src')}: ${parts.source.facts.steps[0]!.text}.`,
      ...exp.why,
      `Therefore \`${finding.location.function}\` has ${template.cwe} (${name}) at line ${Math.min(...flaw)}.`,
    ],
  };
}

function fixedReport(template: SynthTemplate, parts: TemplateParts, exp: Explanation, x: ExplainContext): VulnerabilityReport {
  const name = getCwe(template.cwe)?.name ?? template.cwe;
  return {
    verdict: 'not_vulnerable',
    findings: [],
    reasoning: [
      `Line ${x.f('src')}: ${parts.source.facts.steps[0]!.text}.`,
      ...exp.fixedWhy,
      `So the ${template.cwe} (${name}) pattern this code resembles cannot happen here: not vulnerable.`,
    ],
  };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

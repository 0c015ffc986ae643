import { normaliseCweId } from '../../cwe/index.js';
import type { Language } from '../../kb/samples.js';
import type { ToolFinding } from '../prediction.js';
import { runTool, toolVersion } from './tool.js';
import { summarise, type Baseline, type BaselineAnalysis } from './types.js';

/**
 * cppcheck as a baseline: `cppcheck --xml --enable=warning,style,performance,portability` on the
 * sample, one file at a time, only the first preprocessor configuration (--max-configs=1: Juliet
 * and real code carry #ifdef _WIN32 branches that would otherwise be checked as separate
 * programs), missing includes suppressed (samples are single files).
 *
 * Mapping (decided here):
 * - "vulnerable" when any message has severity error or warning, except messages about the
 *   analysis itself (syntax errors, unknown macros, internal errors, configuration notes): cppcheck
 *   reserves error/warning for defects (null dereference, leaks, out-of-bounds, uninitialised
 *   data, use after free, bad format arguments); style/performance/portability are code smells.
 * - CWEs: the cwe attribute of the counted messages.
 * - score: the highest severity weight over all messages: error 1, warning 0.75, portability 0.5,
 *   performance 0.3, style 0.25, none 0 (so VD-S can rank files that only have smells).
 */
export const CPPCHECK_COUNTED_SEVERITIES: readonly string[] = ['error', 'warning'];

/** Message ids that describe the analysis, not the code. */
export const CPPCHECK_NON_FINDINGS: ReadonlySet<string> = new Set([
  'syntaxError',
  'cppcheckError',
  'internalAstError',
  'internalError',
  'preprocessorErrorDirective',
  'unknownMacro',
  'missingInclude',
  'missingIncludeSystem',
  'toomanyconfigs',
  'noValidConfiguration',
  'purgedConfiguration',
  'ConfigurationNotChecked',
  'checkersReport',
  'normalCheckLevelMaxBranches',
  'unmatchedSuppression',
  'instantiationError',
  'templateRecursion',
]);

const SEVERITY_WEIGHT: Record<string, number> = { error: 1, warning: 0.75, portability: 0.5, performance: 0.3, style: 0.25 };

const TIMEOUT_MS = 120_000;

export const cppcheck: Baseline = {
  name: 'cppcheck',
  mapping:
    'vulnerable when cppcheck reports any message of severity error or warning (analysis messages such as syntaxError, ' +
    'unknownMacro or internal errors excluded); CWEs from the messages\' cwe attribute; score = highest severity weight ' +
    '(error 1, warning 0.75, portability 0.5, performance 0.3, style 0.25).',
  version() {
    return toolVersion('cppcheck', ['--version']);
  },
  async analyze(file, language: Language): Promise<BaselineAnalysis> {
    const args = [
      '--xml',
      '--xml-version=2',
      '--enable=warning,style,performance,portability',
      '--quiet',
      '--max-configs=1',
      '--platform=unix64',
      `--language=${language === 'cpp' ? 'c++' : 'c'}`,
      `--std=${language === 'cpp' ? 'c++17' : 'c11'}`,
      '--suppress=missingInclude',
      '--suppress=missingIncludeSystem',
      file.name,
    ];
    const run = await runTool('cppcheck', args, { cwd: file.dir, timeoutMs: TIMEOUT_MS });
    if (run.timedOut) return summarise([], 0, `cppcheck timed out after ${TIMEOUT_MS / 1000}s`, run.stderr);
    const xml = run.stderr.slice(run.stderr.indexOf('<?xml'));
    if (!xml.startsWith('<?xml') || run.code !== 0) {
      return summarise([], 0, `cppcheck exited ${run.code} without XML output`, run.stderr + run.stdout);
    }
    const findings = parseCppcheckXml(xml);
    const score = Math.max(0, ...findings.filter((f) => !CPPCHECK_NON_FINDINGS.has(f.rule)).map((f) => SEVERITY_WEIGHT[f.severity] ?? 0));
    const parseFailure = findings.find((f) => f.rule === 'syntaxError' || f.rule === 'internalAstError' || f.rule === 'cppcheckError');
    return summarise(findings, score, parseFailure ? `cppcheck could not parse the file: ${parseFailure.message}` : null, xml.trim());
  },
};

/** The <error> elements of cppcheck's XML version 2, mapped to findings. */
export function parseCppcheckXml(xml: string): ToolFinding[] {
  const findings: ToolFinding[] = [];
  const element = /<error\s([^>]*?)(\/>|>([\s\S]*?)<\/error>)/g;
  for (const m of xml.matchAll(element)) {
    const attrs = attributes(m[1]!);
    const body = m[3] ?? '';
    const location = /<location\s([^>]*?)\/?>/.exec(body);
    const line = location ? Number(attributes(location[1]!).line) : NaN;
    const rule = attrs.id ?? 'unknown';
    const severity = attrs.severity ?? 'unknown';
    findings.push({
      rule,
      severity,
      line: Number.isInteger(line) && line > 0 ? line : null,
      cwe: attrs.cwe ? (normaliseCweId(attrs.cwe) ?? null) : null,
      message: attrs.msg ?? '',
      counts: CPPCHECK_COUNTED_SEVERITIES.includes(severity) && !CPPCHECK_NON_FINDINGS.has(rule),
    });
  }
  return findings;
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) out[m[1]!] = decodeEntities(m[2]!);
  return out;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|apos|quot|lt|gt|amp);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ({ apos: "'", quot: '"', lt: '<', gt: '>', amp: '&' } as Record<string, string>)[e]!;
  });
}

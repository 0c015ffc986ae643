import { pathToFileURL } from 'node:url';
import { getCwe } from '../cwe/index.js';
import type { Severity } from '../report/schema.js';
import { stableJson } from './stable-json.js';
import type { ScanFinding, ScanNotification, ScanResult } from './types.js';

/**
 * SARIF 2.1.0 for code scanning (GitHub and others): one rule per CWE with its name,
 * descriptions, help and a link to the CWE page; one result per finding with its level, region,
 * line-independent partialFingerprints, the evidence as a code flow, the fix as a replacement,
 * and suppressions with their justification; skipped files and errors as tool execution
 * notifications. Keys are sorted so the same scan prints the same bytes.
 */
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const SARIF_VERSION = '2.1.0';
export const SRCROOT = '%SRCROOT%';

export const SEVERITY_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};

/** GitHub reads rule properties["security-severity"] (a number as a string) to rank alerts. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };
const RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3, critical: 4 };

type Json = Record<string, unknown>;

export function renderSarif(result: ScanResult): string {
  return stableJson(toSarif(result));
}

export function toSarif(result: ScanResult): Json {
  const all = [...result.findings, ...result.suppressed];
  const rules = buildRules(all);
  const index = new Map(rules.map((r, i) => [r.id as string, i]));
  const results = [...result.findings, ...result.suppressed]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.region.startLine - b.region.startLine || (a.cwe < b.cwe ? -1 : a.cwe > b.cwe ? 1 : 0)))
    .map((f) => toResult(f, index.get(f.cwe)!, result.baseline !== undefined));
  return {
    $schema: SARIF_SCHEMA,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: 'finesec',
            version: result.toolVersion,
            semanticVersion: result.toolVersion,
            rules,
          },
        },
        originalUriBaseIds: { [SRCROOT]: { uri: directoryUri(result.root) } },
        columnKind: 'utf16CodeUnits',
        invocations: [
          {
            executionSuccessful: result.successful,
            toolExecutionNotifications: result.notifications.map(toNotification),
          },
        ],
        results,
        properties: {
          model: result.model,
          stats: stableStats(result),
          ...(result.baseline ? { baseline: result.baseline } : {}),
          ...(result.prefilter ? { prefilter: result.prefilter } : {}),
        },
      },
    ],
  };
}

/** The counts that do not depend on the cache or the clock, so a warm scan prints what the cold one did. */
function stableStats(result: ScanResult): Json {
  const { files, findings, functions } = result.stats;
  const { cacheHits: _hits, modelCalls: _calls, ...work } = functions;
  return { files, findings, functions: work };
}

function buildRules(findings: ScanFinding[]): Json[] {
  const worst = new Map<string, Severity>();
  for (const f of findings) {
    const seen = worst.get(f.cwe);
    if (!seen || RANK[f.severity] > RANK[seen]) worst.set(f.cwe, f.severity);
  }
  return [...worst.keys()]
    .sort((a, b) => cweNumber(a) - cweNumber(b))
    .map((id) => {
      const entry = getCwe(id);
      const n = cweNumber(id);
      const name = entry?.name ?? id;
      const description = entry?.description ?? `${id} (not in the bundled CWE catalog)`;
      const helpUri = `https://cwe.mitre.org/data/definitions/${n}.html`;
      const severity = worst.get(id)!;
      return {
        id,
        name: ruleName(name, id),
        shortDescription: { text: `${id}: ${name}` },
        fullDescription: { text: description },
        helpUri,
        help: {
          text: `${id}: ${name}. ${description} See ${helpUri}`,
          markdown: `**${id}: ${escapeMarkdown(name)}**\n\n${escapeMarkdown(description)}\n\n[${id} on cwe.mitre.org](${helpUri})`,
        },
        defaultConfiguration: { level: SEVERITY_LEVEL[severity] },
        properties: {
          tags: ['security', `external/cwe/cwe-${n}`],
          precision: 'medium',
          'security-severity': SECURITY_SEVERITY[severity],
        },
      };
    });
}

function toResult(f: ScanFinding, ruleIndex: number, withBaseline: boolean): Json {
  const artifactLocation = { uri: fileUri(f.file), uriBaseId: SRCROOT };
  const region: Json = {
    startLine: f.region.startLine,
    endLine: f.region.endLine,
    ...(f.region.startColumn !== undefined ? { startColumn: f.region.startColumn, endColumn: f.region.endColumn } : {}),
    snippet: { text: f.fragment },
  };
  const name = getCwe(f.cwe)?.name;
  return {
    ruleId: f.cwe,
    ruleIndex,
    level: SEVERITY_LEVEL[f.severity],
    message: { text: `${f.title} (${f.cwe}${name ? ` ${name}` : ''}, ${f.severity}): ${f.root_cause}` },
    locations: [
      {
        physicalLocation: { artifactLocation, region },
        logicalLocations: [{ fullyQualifiedName: f.function, kind: 'function' }],
      },
    ],
    partialFingerprints: f.fingerprints,
    codeFlows: [
      {
        message: { text: `evidence for ${f.cwe} in ${f.function}` },
        threadFlows: [
          {
            locations: f.evidence.map((e, i) => ({
              executionOrder: i + 1,
              location: {
                physicalLocation: { artifactLocation, region: { startLine: e.line } },
                message: { text: e.step },
              },
            })),
          },
        ],
      },
    ],
    ...(f.fix !== undefined ? { fixes: [toFix(f, artifactLocation)] } : {}),
    ...(f.suppression
      ? { suppressions: [{ kind: f.suppression.kind, status: 'accepted', justification: `${f.suppression.reason} (${f.suppression.where})` }] }
      : {}),
    ...(withBaseline ? { baselineState: 'new' } : {}),
    properties: {
      severity: f.severity,
      confidence: f.confidence,
      function: f.function,
      trigger: f.trigger,
      impact: f.impact,
      remediation: f.remediation,
      ...(f.prefilter ? { prefilter: f.prefilter } : {}),
    },
  };
}

/** The fix replaces the fragment: exactly its characters when it was found verbatim, else its whole lines. */
function toFix(f: ScanFinding, artifactLocation: Json): Json {
  const deletedRegion: Json =
    f.region.startColumn !== undefined
      ? { startLine: f.region.startLine, startColumn: f.region.startColumn, endLine: f.region.endLine, endColumn: f.region.endColumn }
      : { startLine: f.region.startLine, endLine: f.region.endLine };
  return {
    description: { text: f.remediation },
    artifactChanges: [{ artifactLocation, replacements: [{ deletedRegion, insertedContent: { text: f.fix } }] }],
  };
}

function toNotification(n: ScanNotification): Json {
  return {
    level: n.level,
    message: { text: n.message },
    descriptor: { id: n.id },
    ...(n.file
      ? {
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: fileUri(n.file), uriBaseId: SRCROOT },
                ...(n.line !== undefined ? { region: { startLine: n.line } } : {}),
              },
            },
          ],
        }
      : {}),
  };
}

/** A relative path as a URI reference: each segment percent-encoded, '/' kept. */
export function fileUri(rel: string): string {
  return rel
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function directoryUri(abs: string): string {
  const href = pathToFileURL(abs).href;
  return href.endsWith('/') ? href : href + '/';
}

/** "NULL Pointer Dereference" -> "NullPointerDereference"; a quoted alias wins ("('OS Command Injection')"). */
export function ruleName(cweName: string, id: string): string {
  const alias = /\('([^']+)'\)/.exec(cweName)?.[1];
  const words = (alias ?? cweName).split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase()).join('');
  return name || id.replace('-', '');
}

function cweNumber(id: string): number {
  return Number(id.replace(/^CWE-/, '')) || 0;
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>])/g, '\\$1');
}

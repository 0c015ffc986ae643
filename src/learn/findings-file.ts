/**
 * Findings read back from a scan's output, for feedback: a SARIF 2.1.0 log (finesec's or any
 * other tool's) or finesec's own scan JSON. Each finding says where it is (file, line, function),
 * what it claimed (CWE), its fingerprints, and whether a person dismissed it as a false positive.
 *
 * What counts as a dismissed false positive:
 * - SARIF `result.suppressions`: a suppression whose `status` is "accepted" or absent (a request
 *   to suppress that nobody put under review or rejected; finesec's own inline and file
 *   suppressions are written this way). "underReview" and "rejected" do not count. The first
 *   justification becomes the note.
 * - GitHub code scanning dismissals carried in `result.properties` (the alert fields of GitHub's
 *   REST API, snake or camel case): `state` / `alertState` "dismissed" with `dismissed_reason` /
 *   `dismissedReason` "false positive" (or false_positive); `dismissed_comment` becomes the note.
 *   The other dismissal reasons ("won't fix", "used in tests") say the finding is real: skipped.
 * - `baselineState` is not evidence either way (it compares two runs, not a person's judgement);
 *   a result whose baselineState is "absent" is skipped because its code is gone.
 * - finesec scan JSON: the `suppressed` findings (suppressed inline or by the suppressions file).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normaliseCweId } from '../cwe/index.js';
import { InputError, errorMessage } from '../util/errors.js';

export interface FindingRef {
  /** Where in the file it sits, e.g. "runs[0].results[3]". */
  where: string;
  cwe: string | null;
  /** The file as the log names it (relative to its root, or a URI). */
  file: string | null;
  /** Absolute path on this machine, when it can be resolved. */
  path: string | null;
  startLine: number | null;
  functionName: string | null;
  fingerprints: Record<string, string>;
  dismissed: boolean;
  /** Why it is (not) taken as a false positive. */
  why: string;
  note: string | null;
}

export interface FindingsFile {
  format: 'sarif' | 'finesec-scan';
  findings: FindingRef[];
}

type Json = Record<string, unknown>;

/** root: directory relative file names resolve against (default: the log's own base, else the working directory). */
export function readFindingsFile(path: string, root?: string): FindingsFile {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: not a readable JSON file (${errorMessage(err).split('\n')[0]})`, err);
  }
  if (!isObject(value)) throw new InputError(`${path}: expected a SARIF log or a finesec scan JSON object`);
  if (value.format === 'finesec-scan') return { format: 'finesec-scan', findings: scanJsonFindings(value, path, root) };
  if (!Array.isArray(value.runs)) throw new InputError(`${path}: expected a SARIF 2.1.0 log (with "runs") or a finesec scan JSON (format "finesec-scan")`);
  if (value.version !== undefined && value.version !== '2.1.0') throw new InputError(`${path}: SARIF version ${String(value.version)}, expected 2.1.0`);
  return { format: 'sarif', findings: sarifFindings(value.runs, path, root) };
}

function sarifFindings(runs: unknown[], logPath: string, root: string | undefined): FindingRef[] {
  const out: FindingRef[] = [];
  runs.forEach((run, r) => {
    if (!isObject(run)) return;
    const bases = isObject(run.originalUriBaseIds) ? run.originalUriBaseIds : {};
    const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : {};
    const rules = Array.isArray(driver.rules) ? driver.rules.filter(isObject) : [];
    const results = Array.isArray(run.results) ? run.results : [];
    results.forEach((result, i) => {
      const where = `runs[${r}].results[${i}]`;
      if (!isObject(result)) return;
      const rule = typeof result.ruleIndex === 'number' ? rules[result.ruleIndex] : rules.find((x) => x.id === result.ruleId);
      const loc = Array.isArray(result.locations) && isObject(result.locations[0]) ? result.locations[0] : {};
      const physical = isObject(loc.physicalLocation) ? loc.physicalLocation : {};
      const artifact = isObject(physical.artifactLocation) ? physical.artifactLocation : {};
      const region = isObject(physical.region) ? physical.region : {};
      const logical = Array.isArray(loc.logicalLocations) && isObject(loc.logicalLocations[0]) ? loc.logicalLocations[0] : {};
      const props = isObject(result.properties) ? result.properties : {};
      const uri = typeof artifact.uri === 'string' ? artifact.uri : null;
      const baseId = typeof artifact.uriBaseId === 'string' ? artifact.uriBaseId : undefined;
      const dismissal = sarifDismissal(result, props);
      out.push({
        where,
        cwe: cweOf(result.ruleId, rule, props),
        file: uri,
        path: uri === null ? null : resolveUri(uri, baseId, bases, logPath, root),
        startLine: typeof region.startLine === 'number' ? region.startLine : null,
        functionName: str(logical.fullyQualifiedName) ?? str(logical.name) ?? str(props.function),
        fingerprints: stringRecord(result.partialFingerprints),
        ...dismissal,
      });
    });
  });
  return out;
}

function sarifDismissal(result: Json, props: Json): { dismissed: boolean; why: string; note: string | null } {
  if (result.baselineState === 'absent') return { dismissed: false, why: 'baselineState "absent": the code is gone', note: null };
  const suppressions = Array.isArray(result.suppressions) ? result.suppressions.filter(isObject) : [];
  const inEffect = suppressions.find((s) => s.status === undefined || s.status === 'accepted');
  if (inEffect) {
    return { dismissed: true, why: `suppression (${str(inEffect.kind) ?? 'unknown kind'}, ${str(inEffect.status) ?? 'no status'})`, note: str(inEffect.justification) };
  }
  const state = str(props.state) ?? str(props.alertState) ?? str(props.alert_state);
  if (state === 'dismissed') {
    const reason = (str(props.dismissed_reason) ?? str(props.dismissedReason) ?? '').toLowerCase().replace(/_/g, ' ');
    const note = str(props.dismissed_comment) ?? str(props.dismissedComment);
    if (reason === 'false positive') return { dismissed: true, why: 'dismissed as a false positive', note };
    return { dismissed: false, why: `dismissed as "${reason || 'no reason'}", not as a false positive`, note };
  }
  if (suppressions.length > 0) {
    return { dismissed: false, why: `suppression ${suppressions.map((s) => str(s.status) ?? '?').join(', ')}: not accepted`, note: null };
  }
  return { dismissed: false, why: 'not suppressed or dismissed', note: null };
}

/** The rule's CWE: the rule id itself, a CWE tag (external/cwe/cwe-476), or a cwe property. */
function cweOf(ruleId: unknown, rule: Json | undefined, props: Json): string | null {
  const direct = typeof ruleId === 'string' ? normaliseCweId(ruleId) : undefined;
  if (direct && /^CWE-/i.test(String(ruleId))) return direct;
  const ruleProps = rule && isObject(rule.properties) ? rule.properties : {};
  const tags = [...(Array.isArray(ruleProps.tags) ? ruleProps.tags : []), ...(Array.isArray(props.tags) ? props.tags : [])];
  for (const tag of tags) {
    const m = typeof tag === 'string' ? /cwe[-/]?(\d+)$/i.exec(tag) : null;
    if (m) return normaliseCweId(m[1]!) ?? null;
  }
  const named = str(props.cwe) ?? str(ruleProps.cwe);
  return named ? (normaliseCweId(named) ?? null) : null;
}

function resolveUri(uri: string, baseId: string | undefined, bases: Json, logPath: string, root: string | undefined): string | null {
  try {
    if (uri.startsWith('file:')) return fileURLToPath(uri);
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return null;
    const rel = decodeURIComponent(uri);
    if (isAbsolute(rel)) return rel;
    if (root !== undefined) return resolve(root, rel);
    const base = baseId !== undefined && isObject(bases[baseId]) ? str((bases[baseId] as Json).uri) : null;
    if (base && base.startsWith('file:')) return join(fileURLToPath(base), rel);
    return resolve(dirname(logPath), rel);
  } catch {
    return null;
  }
}

function scanJsonFindings(value: Json, logPath: string, root: string | undefined): FindingRef[] {
  const base = root ?? str(value.root) ?? dirname(logPath);
  const one = (f: unknown, where: string, dismissed: boolean): FindingRef | undefined => {
    if (!isObject(f)) return undefined;
    const file = str(f.file);
    const region = isObject(f.region) ? f.region : {};
    return {
      where,
      cwe: str(f.cwe) ? (normaliseCweId(str(f.cwe)!) ?? null) : null,
      file,
      path: file ? resolve(base, file) : null,
      startLine: typeof region.start_line === 'number' ? region.start_line : null,
      functionName: str(f.function),
      fingerprints: stringRecord(f.fingerprints),
      dismissed,
      why: dismissed ? 'suppressed in the scan' : 'reported by the scan',
      note: isObject(f.suppression) ? str(f.suppression.reason) : null,
    };
  };
  const findings = Array.isArray(value.findings) ? value.findings : [];
  const suppressed = Array.isArray(value.suppressed) ? value.suppressed : [];
  return [
    ...findings.map((f, i) => one(f, `findings[${i}]`, false)),
    ...suppressed.map((f, i) => one(f, `suppressed[${i}]`, true)),
  ].filter((f): f is FindingRef => f !== undefined);
}

/** The finding one of whose fingerprints is this value (with or without its ":N" occurrence suffix). */
export function findByFingerprint(file: FindingsFile, fingerprint: string): FindingRef | undefined {
  const wanted = fingerprint.includes('=') ? fingerprint.slice(fingerprint.indexOf('=') + 1) : fingerprint;
  return file.findings.find((f) => Object.values(f.fingerprints).some((v) => v === wanted || v.replace(/:\d+$/, '') === wanted));
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

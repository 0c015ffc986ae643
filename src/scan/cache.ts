import { createReadStream, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { codeHash, stripComments } from '../corpus/normalize.js';
import type { Db } from '../kb/db.js';
import { nowIso } from '../kb/db.js';
import type { ReportStatus } from '../runtime/generate-report.js';
import { reportSchema, type VulnerabilityReport } from '../report/schema.js';
import { sha256 } from '../util/hash.js';

/**
 * The per-function scan cache in the knowledge base (table scan_cache). The key is the
 * normalised code hash (comments and layout ignored), the model and adapter identities, the
 * prompt version and a hash of the rest of the request; a second scan of an unchanged tree finds
 * every function here and makes no model call.
 */
export interface CacheKey {
  codeHash: string;
  modelId: string;
  adapterHash: string;
  promptVersion: string;
  requestHash: string;
}

export type CachedStatus = Exclude<ReportStatus, 'prompt_too_long'> | 'split' | 'too_long';

export interface CacheEntry {
  status: CachedStatus;
  /** For report statuses: the report, its line numbers moved onto the current code. */
  report?: VulnerabilityReport;
  /** For 'split': 1-based [first, last] line ranges of the parts. */
  parts?: Array<[number, number]>;
  error?: string;
  usage: { promptTokens: number; completionTokens: number };
}

export function cacheKeyFor(code: string, identity: Omit<CacheKey, 'codeHash'>): CacheKey {
  return { codeHash: codeHash(code), ...identity };
}

/** The original (1-based) line of every line that survives normalisation, in order. */
export function normalisedLineMap(code: string): number[] {
  const lines = stripComments(code.replace(/\r\n?/g, '\n')).split('\n');
  const map: number[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '') map.push(i + 1);
  });
  return map;
}

interface Row {
  code_sha: string;
  line_map: string;
  status: CachedStatus;
  report: string | null;
  error: string | null;
  prompt_tokens: number;
  completion_tokens: number;
}

export class ScanCache {
  private readonly getStmt;
  private readonly putStmt;

  constructor(private readonly db: Db) {
    this.getStmt = db.prepare(
      `SELECT code_sha, line_map, status, report, error, prompt_tokens, completion_tokens FROM scan_cache
       WHERE code_hash = ? AND model_id = ? AND adapter_hash = ? AND prompt_version = ? AND request_hash = ?`,
    );
    this.putStmt = db.prepare(
      `INSERT OR REPLACE INTO scan_cache (code_hash, model_id, adapter_hash, prompt_version, request_hash, code_sha, line_map,
         status, report, error, prompt_tokens, completion_tokens, seconds, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /**
   * The entry for this code, or undefined. A report stored for code that differs only in comments
   * or layout comes back with its lines moved onto `code`; split/too_long markers only count for
   * the exact same text (their line ranges are not moved).
   */
  get(key: CacheKey, code: string): CacheEntry | undefined {
    const row = this.getStmt.get(key.codeHash, key.modelId, key.adapterHash, key.promptVersion, key.requestHash) as Row | undefined;
    if (!row) return undefined;
    const usage = { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens };
    const exact = row.code_sha === sha256(code);
    if (row.status === 'split' || row.status === 'too_long') {
      if (!exact) return undefined;
      if (row.status === 'too_long') return { status: row.status, error: row.error ?? 'does not fit the context', usage };
      const parts = parseParts(row.report);
      return parts ? { status: 'split', parts, usage } : undefined;
    }
    let report: VulnerabilityReport | undefined;
    if (row.report !== null) {
      const parsed = reportSchema.safeParse(safeJson(row.report));
      if (!parsed.success) return undefined;
      report = parsed.data;
      if (!exact) {
        const moved = remapReport(report, JSON.parse(row.line_map) as number[], normalisedLineMap(code));
        if (!moved) return undefined;
        report = moved;
      }
    }
    return { status: row.status, ...(report ? { report } : {}), ...(row.error !== null ? { error: row.error } : {}), usage };
  }

  put(key: CacheKey, code: string, entry: CacheEntry & { seconds?: number }): void {
    const payload = entry.status === 'split' ? JSON.stringify({ parts: entry.parts ?? [] }) : entry.report ? JSON.stringify(entry.report) : null;
    this.putStmt.run(
      key.codeHash,
      key.modelId,
      key.adapterHash,
      key.promptVersion,
      key.requestHash,
      sha256(code),
      JSON.stringify(normalisedLineMap(code)),
      entry.status,
      payload,
      entry.error ?? null,
      entry.usage.promptTokens,
      entry.usage.completionTokens,
      entry.seconds ?? 0,
      nowIso(),
    );
  }

  /**
   * sha256 of a file's content, remembered per (path, size, mtime) so a multi-gigabyte model is
   * hashed once, not on every scan.
   */
  async fileHash(path: string): Promise<string> {
    const abs = resolve(path);
    const st = statSync(abs);
    const row = this.db.prepare('SELECT size, mtime_ms, sha256 FROM scan_file_hashes WHERE path = ?').get(abs) as
      | { size: number; mtime_ms: number; sha256: string }
      | undefined;
    if (row && row.size === st.size && row.mtime_ms === st.mtimeMs) return row.sha256;
    const hash = await hashFile(abs);
    this.db
      .prepare('INSERT OR REPLACE INTO scan_file_hashes (path, size, mtime_ms, sha256) VALUES (?, ?, ?, ?)')
      .run(abs, st.size, st.mtimeMs, hash);
    return hash;
  }
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseParts(text: string | null): Array<[number, number]> | undefined {
  const value = text === null ? undefined : (safeJson(text) as { parts?: unknown } | undefined);
  const parts = value?.parts;
  if (!Array.isArray(parts) || parts.length === 0) return undefined;
  const ok = parts.every((p) => Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]) && p[0] >= 1 && p[1] >= p[0]);
  return ok ? (parts as Array<[number, number]>) : undefined;
}

/**
 * Moves a report's line numbers from the code it was made for onto code with the same
 * normalised text: both have the same surviving lines, in the same order. A line that did not
 * survive (blank, comment) maps to the next surviving line (the previous one for a range's end).
 */
export function remapReport(report: VulnerabilityReport, from: number[], to: number[]): VulnerabilityReport | undefined {
  if (from.length !== to.length || from.length === 0) return undefined;
  const forward = (line: number): number => {
    const i = from.findIndex((l) => l >= line);
    return to[i === -1 ? to.length - 1 : i]!;
  };
  const backward = (line: number): number => {
    let i = -1;
    for (let k = 0; k < from.length && from[k]! <= line; k++) i = k;
    return to[i === -1 ? 0 : i]!;
  };
  return {
    ...report,
    findings: report.findings.map((f) => {
      const start = forward(f.location.start_line);
      const end = Math.max(start, backward(f.location.end_line));
      return {
        ...f,
        location: { ...f.location, start_line: start, end_line: end },
        evidence: f.evidence.map((e) => ({ ...e, line: forward(e.line) })),
      };
    }),
  };
}

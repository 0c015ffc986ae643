import type { Db } from '../../kb/db.js';
import type { SampleInput } from '../../kb/samples.js';

/** What `finesec ingest` was asked to do, with the config values importers need. */
export interface ImportSettings {
  /** PATH as the user gave it (a file or a directory). */
  path: string;
  dataset: string;
  /** primevul / jsonl: the row field whose value becomes the group id. */
  groupField?: string;
  /** jsonl: our field -> the row's field (code=body,label=is_vuln,...). */
  map?: Record<string, string>;
  /** Read at most this many input units (rows, records, files) in this run. */
  limit?: number;
  batchSize: number;
  maxFileBytes: number;
  maxFunctionLines: number;
}

/** One input file of an import: the unit of resumable progress. */
export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Stable name within the import (relative to PATH, or the file name): progress, rejections, source keys. */
  key: string;
  /** What warnings show (the path as the user would type it). */
  display: string;
  size: number;
}

export interface UnitRejection {
  reason: string;
  /** 1-based line; defaults to the unit's line. */
  line?: number | null;
}

/** One input row, record or file, as the importer turned it into samples. */
export interface Unit {
  /** 1-based line where the unit starts (null for whole files). */
  line: number | null;
  samples: SampleInput[];
  rejections: UnitRejection[];
  /** False for things that are not input rows (blank lines): not counted as read. */
  counts?: boolean;
}

export interface OpenedInput {
  /** Hash of the input's content: progress is only resumed on the same content. */
  contentHash: string;
  /** The input's units in order, without building the first `skip` (already committed). */
  units(skip: number): AsyncIterable<Unit>;
  /** 0..1, how much of the input has been consumed (drives the ETA). */
  fraction(): number;
}

export interface Importer {
  format: string;
  /** What one unit of this format is, in messages: rows, records, files. */
  unit: string;
  /** One-time setup before the first input (e.g. loading the C/C++ grammars). */
  prepare?(settings: ImportSettings): Promise<void>;
  /** The input files under settings.path, in a stable order. Throws InputError when there are none. */
  listInputs(settings: ImportSettings): Promise<InputFile[]>;
  open(input: InputFile, settings: ImportSettings): Promise<OpenedInput>;
  /** Runs after every input, in the import's last transaction (e.g. drop pair ids that found no twin). */
  finalize?(db: Db, datasetId: number): void;
}

import { existsSync } from 'node:fs';
import { bool, requireStr, str, type CommandSpec } from './command.js';
import { openWorkspace } from '../config/workspace.js';
import { adapterEvents, allCurrentAdapters, listAdapters, type AdapterRow, type AdapterStatus } from '../kb/adapters.js';
import { listLearnRounds } from '../kb/learn-rounds.js';
import { fileSha256 } from '../learn/files.js';
import { adapterFilePath, lineage, promoteAdapter, registerAdapter, requireAdapter, rollbackAdapter } from '../learn/registry.js';
import { UsageError } from '../util/errors.js';

function currentIds(rows: Array<{ adapter_id: string }>): Set<string> {
  return new Set(rows.map((r) => r.adapter_id));
}

function decoded(row: AdapterRow, current: Set<string>): Record<string, unknown> {
  return { ...row, eval_run_ids: JSON.parse(row.eval_run_ids) as string[], metrics: JSON.parse(row.metrics) as unknown, current: current.has(row.id) };
}

export const adaptersList: CommandSpec = {
  name: 'adapters list',
  summary: 'registered adapters: status, current one per base model, parent, training run',
  options: {
    status: { type: 'string', help: 'only this status', choices: ['candidate', 'promoted', 'rejected'], arg: 'STATUS' },
  },
  async run(ctx) {
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const status = str(ctx.args, 'status') as AdapterStatus | undefined;
      const rows = listAdapters(ws.db, status ? { status } : {});
      const current = currentIds(allCurrentAdapters(ws.db));
      const lines = rows.length
        ? rows.map(
            (r) =>
              `${current.has(r.id) ? '*' : ' '} ${r.id.padEnd(28)} ${r.status.padEnd(9)} parent ${(r.parent_id ?? '-').padEnd(28)} base ${r.base_sha256.slice(0, 12)} ${r.created_at}${r.note ? `  ${r.note}` : ''}`,
          )
        : ['no adapters registered (finesec adapters register FILE --base BASE)'];
      if (rows.length) lines.push('(* current for its base model)');
      ctx.result({ adapters: rows.map((r) => decoded(r, current)) }, lines.join('\n'));
    } finally {
      ws.close();
    }
  },
};

export const adaptersShow: CommandSpec = {
  name: 'adapters show',
  summary: 'one adapter: files and hashes (checked), lineage, status history, gate figures, learn rounds',
  positionals: 'ID',
  options: {},
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new UsageError('adapters show: expected one adapter id (or "current")');
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const row = requireAdapter(ws.db, ctx.positionals[0]!);
      const current = currentIds(allCurrentAdapters(ws.db));
      const file = adapterFilePath(ws.paths, row);
      const fileOk = existsSync(file) && fileSha256(file) === row.sha256;
      const baseOk = existsSync(row.base_path) && fileSha256(row.base_path) === row.base_sha256;
      const chain = lineage(ws.db, row.id).map((a) => ({ id: a.id, status: a.status, created_at: a.created_at }));
      const events = adapterEvents(ws.db, { adapterId: row.id });
      const rounds = listLearnRounds(ws.db, { candidateId: row.id }).map((r) => ({ run: r.run_id, round: r.round, decision: r.decision, reason: r.reason }));
      const value = { ...decoded(row, current), file, file_ok: fileOk, base_ok: baseOk, lineage: chain, events, learn_rounds: rounds };
      const lines = [
        `adapter ${row.id}: ${row.status}${current.has(row.id) ? ' (current)' : ''}`,
        `  file ${file} sha256 ${row.sha256.slice(0, 16)} ${fileOk ? 'ok' : 'MISSING OR CHANGED'}`,
        `  base ${row.base_path} sha256 ${row.base_sha256.slice(0, 16)} ${baseOk ? 'ok' : 'MISSING OR CHANGED'}`,
        `  lineage ${chain.map((c) => `${c.id} (${c.status})`).join(' <- ')}`,
        `  data sha256 ${row.data_sha256 ?? '-'}, training run ${row.train_run_id ?? '-'}, eval runs ${(JSON.parse(row.eval_run_ids) as string[]).join(', ') || '-'}`,
        `  metrics ${row.metrics}`,
        ...events.map((e) => `  ${e.created_at} ${e.action}${e.previous_id ? ` (was ${e.previous_id})` : ''}${e.reason ? `: ${e.reason}` : ''}`),
        ...rounds.map((r) => `  learn ${r.run} round ${r.round}: ${r.decision}: ${r.reason}`),
      ];
      ctx.result(value, lines.join('\n'));
    } finally {
      ws.close();
    }
  },
};

export const adaptersPromote: CommandSpec = {
  name: 'adapters promote',
  summary: 'make an adapter the current one for its base model (the one it replaces can be rolled back to)',
  positionals: 'ID',
  options: { reason: { type: 'string', help: 'why (kept in the history)', arg: 'TEXT' } },
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new UsageError('adapters promote: expected one adapter id');
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const { adapter, previous } = promoteAdapter(ws.db, ctx.positionals[0]!, str(ctx.args, 'reason') ?? 'promoted by hand');
      ctx.result({ adapter, previous }, `adapter ${adapter.id} is current${previous && previous !== adapter.id ? ` (was ${previous})` : ''}`);
    } finally {
      ws.close();
    }
  },
};

export const adaptersRollback: CommandSpec = {
  name: 'adapters rollback',
  summary: 'make the previously promoted adapter current again; the rolled-back one becomes rejected',
  positionals: '[ID]',
  description: 'ID names any adapter of the base model to roll back (default: the only base model with a current adapter).',
  options: { reason: { type: 'string', help: 'why (kept in the history)', arg: 'TEXT' } },
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('adapters rollback: expected at most one adapter id');
    const ws = openWorkspace(ctx.workspace, { create: false });
    try {
      const r = rollbackAdapter(ws.db, ctx.positionals[0], str(ctx.args, 'reason') ?? 'rolled back by hand');
      ctx.result(r, `rolled back: ${r.to.id} is current again; ${r.from.id} is now ${r.from.status}`);
    } finally {
      ws.close();
    }
  },
};

export const adaptersRegister: CommandSpec = {
  name: 'adapters register',
  summary: 'add a GGUF LoRA adapter to the registry (copied into the workspace) with its base and lineage',
  positionals: 'FILE',
  options: {
    base: { type: 'string', help: 'the base model GGUF it was trained on (required)', arg: 'FILE' },
    id: { type: 'string', help: 'adapter id (default: generated)', arg: 'ID' },
    parent: { type: 'string', help: 'the adapter it was trained from', arg: 'ID' },
    data: { type: 'string', help: 'its training data (recorded by sha256)', arg: 'FILE' },
    'train-run': { type: 'string', help: 'the training run id', arg: 'RUN' },
    note: { type: 'string', help: 'free text', arg: 'TEXT' },
    promote: { type: 'boolean', help: 'also make it the current adapter of its base', default: false },
  },
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new UsageError('adapters register: expected one adapter file');
    const base = requireStr(ctx.args, 'adapters register', 'base');
    const ws = openWorkspace(ctx.workspace, { create: true, logger: ctx.logger });
    try {
      const data = str(ctx.args, 'data');
      if (data !== undefined && !existsSync(data)) throw new UsageError(`adapters register: --data ${data}: no such file`);
      const id = str(ctx.args, 'id');
      const parent = str(ctx.args, 'parent');
      const trainRun = str(ctx.args, 'train-run');
      const note = str(ctx.args, 'note');
      const row = registerAdapter(ws, {
        file: ctx.positionals[0]!,
        base,
        ...(id !== undefined ? { id } : {}),
        parentId: parent ?? null,
        dataSha256: data !== undefined ? fileSha256(data) : null,
        trainRunId: trainRun ?? null,
        note: note ?? null,
        status: bool(ctx.args, 'promote') ? 'promoted' : 'candidate',
      });
      ctx.result({ adapter: row }, `registered adapter ${row.id} (${row.status}) -> ${adapterFilePath(ws.paths, row)}`);
    } finally {
      ws.close();
    }
  },
};

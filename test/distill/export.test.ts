import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readExamples } from '../../src/distill/read-examples.js';
import type { ExampleLine } from '../../src/distill/types.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { synthWorkspace, type DistillFixture } from './fixtures.js';

/**
 * What each trainer's documentation requires, written down and asserted:
 *
 * - TRL (SFTTrainer, conversational "messages" format; `trl sft --config`): each record has
 *   `messages: [{role, content}]`; SFTConfig takes output_dir, max_length, learning_rate,
 *   num_train_epochs, per_device_train_batch_size, gradient_accumulation_steps, warmup_steps,
 *   lr_scheduler_type, seed (and assistant_only_loss); peft LoraConfig takes r, lora_alpha,
 *   lora_dropout, target_modules, bias, task_type = CAUSAL_LM. The CLI YAML needs
 *   model_name_or_path, a dataset (datasets: [{path, data_files, split}]) and, for LoRA,
 *   use_peft, lora_r, lora_alpha, lora_dropout, lora_target_modules; load_in_8bit for 8 bits.
 * - axolotl (config YAML): base_model, load_in_8bit, adapter: lora, lora_r, lora_alpha,
 *   lora_dropout, lora_target_modules, sequence_len, micro_batch_size, num_epochs,
 *   learning_rate, optimizer, output_dir, and datasets entries with path (ds_type json for a
 *   local file), type: chat_template, field_messages and message_property_mappings
 *   {role, content}; each data line holds the messages list of {role, content}.
 * - LLaMA-Factory: dataset_info.json maps the dataset name to file_name (required), formatting
 *   sharegpt, columns.messages and, for OpenAI-style messages, tags role_tag, content_tag,
 *   user_tag, assistant_tag, system_tag; the system message may only come first and user /
 *   assistant alternate. The training YAML needs model_name_or_path, stage: sft, do_train,
 *   finetuning_type: lora, lora_rank, lora_target, dataset, dataset_dir, template, cutoff_len,
 *   output_dir, per_device_train_batch_size, gradient_accumulation_steps, learning_rate,
 *   num_train_epochs; quantization_bit: 8 for an 8-bit base.
 * - ShareGPT: {conversations: [{from: system | human | gpt, value}]}, human at odd and gpt at
 *   even positions (after an optional system turn).
 * - Alpaca: instruction (required), input, output (required), system (optional).
 */
const LORA_YAML = [
  'train:',
  '  lr: 0.0001',
  '  epochs: 2',
  '  seq_len: 512',
  '  batch_tokens: 2048',
  '  accum: 4',
  '  warmup: 5',
  '  schedule: linear',
  '  seed: 9',
  '  lora:',
  '    rank: 8',
  '    alpha: 16',
  '    dropout: 0.1',
  '    targets: [q, v, down]',
  '',
].join('\n');

let fx: DistillFixture;
let distilled: string;
let examples: ExampleLine[];
let lengthDropped: number;

beforeAll(async () => {
  fx = await synthWorkspace({ count: 30, seed: 8, config: LORA_YAML });
  distilled = join(fx.dir, 'train.jsonl');
  const base = await tinyModel();
  const r = await fx.cli('distill', '--dataset', 'syn', '--out', distilled, '--base', base, '--json');
  expect(r.code).toBe(0);
  lengthDropped = (JSON.parse(r.stdout) as { length: { dropped: number } }).length.dropped;
  examples = (await readExamples(distilled)).examples as unknown as ExampleLine[];
  expect(examples.length).toBeGreaterThan(30);
}, 120_000);
afterAll(() => fx?.cleanup());

async function exportTo(format: string, ...extra: string[]): Promise<string> {
  const dir = join(fx.dir, `export-${format}-${extra.length}`);
  const r = await fx.cli('export', '--format', format, '--out', dir, ...extra);
  expect(r.code).toBe(0);
  return dir;
}

const jsonLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function expectMessagesOnly(dir: string): void {
  const records = jsonLines(join(dir, 'train.jsonl'));
  expect(records.length).toBe(examples.length);
  records.forEach((r, i) => {
    expect(Object.keys(r)).toEqual(['messages']);
    expect(r.messages).toEqual(examples[i]!.messages);
  });
}

describe('finesec export', () => {
  it('messages: distill\'s JSONL as is, plus the data card', async () => {
    const dir = await exportTo('messages', '--from', distilled);
    expect(readFileSync(join(dir, 'train.jsonl'), 'utf8')).toBe(readFileSync(distilled, 'utf8'));
    const read = await readExamples(join(dir, 'train.jsonl'));
    expect(read.problems).toEqual([]);
  });

  it('sharegpt: conversations with from system/human/gpt in alternating positions', async () => {
    const dir = await exportTo('sharegpt', '--from', distilled);
    const records = jsonLines(join(dir, 'train.jsonl'));
    expect(records.length).toBe(examples.length);
    records.forEach((r, i) => {
      const turns = r.conversations as Array<{ from: string; value: string }>;
      expect(turns.map((t) => t.from)).toEqual(['system', 'human', 'gpt']);
      expect(turns.map((t) => t.value)).toEqual(examples[i]!.messages.map((m) => m.content));
    });
  });

  it('alpaca: instruction, input, output and system', async () => {
    const dir = await exportTo('alpaca', '--from', distilled);
    const records = jsonLines(join(dir, 'train.jsonl'));
    records.forEach((r, i) => {
      const [system, user, assistant] = examples[i]!.messages;
      expect(r).toEqual({ instruction: user!.content, input: '', output: assistant!.content, system: system!.content });
    });
  });

  it('trl: messages JSONL, SFTConfig + LoraConfig JSON and a trl sft YAML from finesec.yaml', async () => {
    const dir = await exportTo('trl', '--from', distilled, '--base-model', 'Qwen/Qwen2.5-0.5B-Instruct');
    expectMessagesOnly(dir);
    const json = JSON.parse(readFileSync(join(dir, 'trl_sft_config.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(json.model_name_or_path).toBe('Qwen/Qwen2.5-0.5B-Instruct');
    expect(json.dataset).toMatchObject({ data_files: 'train.jsonl', messages_field: 'messages' });
    expect(json.bnb_config).toEqual({ load_in_8bit: true });
    expect(json.sft_config).toMatchObject({
      output_dir: expect.any(String),
      max_length: 512,
      learning_rate: 0.0001,
      num_train_epochs: 2,
      per_device_train_batch_size: 4,
      gradient_accumulation_steps: 4,
      warmup_steps: 5,
      lr_scheduler_type: 'linear',
      seed: 9,
      assistant_only_loss: true,
    });
    expect(json.lora_config).toEqual({
      r: 8,
      lora_alpha: 16,
      lora_dropout: 0.1,
      target_modules: ['q_proj', 'v_proj', 'down_proj'],
      bias: 'none',
      task_type: 'CAUSAL_LM',
      use_rslora: false,
    });
    const yaml = parseYaml(readFileSync(join(dir, 'trl_sft.yaml'), 'utf8')) as Record<string, unknown>;
    expect(yaml).toMatchObject({
      model_name_or_path: 'Qwen/Qwen2.5-0.5B-Instruct',
      datasets: [{ path: 'json', data_files: 'train.jsonl', split: 'train' }],
      use_peft: true,
      load_in_8bit: true,
      lora_r: 8,
      lora_alpha: 16,
      lora_dropout: 0.1,
      lora_target_modules: ['q_proj', 'v_proj', 'down_proj'],
      max_length: 512,
      learning_rate: 0.0001,
      output_dir: expect.any(String),
    });
  });

  it('axolotl: an 8-bit LoRA YAML with a chat_template dataset over the messages field', async () => {
    const dir = await exportTo('axolotl', '--from', distilled);
    expectMessagesOnly(dir);
    const text = readFileSync(join(dir, 'axolotl.yaml'), 'utf8');
    const y = parseYaml(text) as Record<string, unknown>;
    expect(y).toMatchObject({
      base_model: 'SET-ME/hf-base-model',
      load_in_8bit: true,
      adapter: 'lora',
      lora_r: 8,
      lora_alpha: 16,
      lora_dropout: 0.1,
      lora_target_modules: ['q_proj', 'v_proj', 'down_proj'],
      sequence_len: 512,
      micro_batch_size: 4,
      gradient_accumulation_steps: 4,
      num_epochs: 2,
      learning_rate: 0.0001,
      lr_scheduler: 'linear',
      optimizer: expect.any(String),
      output_dir: expect.any(String),
    });
    expect(y.datasets).toEqual([
      {
        path: 'train.jsonl',
        ds_type: 'json',
        type: 'chat_template',
        field_messages: 'messages',
        message_property_mappings: { role: 'role', content: 'content' },
        roles_to_train: ['assistant'],
      },
    ]);
    expect(text.startsWith('# ')).toBe(true);
  });

  it('llamafactory: dataset_info.json with OpenAI-style tags and a LoRA SFT YAML', async () => {
    const dir = await exportTo('llamafactory', '--from', distilled, '--template', 'qwen', '--name', 'vulns');
    expectMessagesOnly(dir);
    const info = JSON.parse(readFileSync(join(dir, 'dataset_info.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(info).toEqual({
      vulns: {
        file_name: 'train.jsonl',
        formatting: 'sharegpt',
        columns: { messages: 'messages' },
        tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
      },
    });
    expect(existsSync(join(dir, info.vulns!.file_name as string))).toBe(true);
    const y = parseYaml(readFileSync(join(dir, 'llamafactory_sft.yaml'), 'utf8')) as Record<string, unknown>;
    expect(y).toMatchObject({
      model_name_or_path: 'SET-ME/hf-base-model',
      quantization_bit: 8,
      stage: 'sft',
      do_train: true,
      finetuning_type: 'lora',
      lora_rank: 8,
      lora_alpha: 16,
      lora_dropout: 0.1,
      lora_target: 'q_proj,v_proj,down_proj',
      dataset: 'vulns',
      dataset_dir: '.',
      template: 'qwen',
      cutoff_len: 512,
      output_dir: expect.any(String),
      per_device_train_batch_size: 4,
      gradient_accumulation_steps: 4,
      learning_rate: 0.0001,
      num_train_epochs: 2,
    });
  });

  it('writes a data card: counts by task, label and CWE, token statistics, teachers, prompt versions, filtering', async () => {
    const dir = await exportTo('trl', '--dataset', 'syn');
    expectMessagesOnly(dir);
    const card = readFileSync(join(dir, 'README.md'), 'utf8');
    const row = (first: string) => card.split('\n').find((l) => l.startsWith(`| ${first} |`));
    const count = (pred: (e: ExampleLine) => boolean) => examples.filter(pred).length;
    for (const task of new Set(examples.map((e) => e.task))) {
      const of = examples.filter((e) => e.task === task);
      expect(row(task)).toBe(`| ${task} | ${of.length} | ${of.filter((e) => e.label === 'vulnerable').length} | ${of.filter((e) => e.label === 'not_vulnerable').length} |`);
    }
    expect(row('vulnerable')).toBe(`| vulnerable | ${count((e) => e.label === 'vulnerable')} |`);
    expect(row('not_vulnerable')).toBe(`| not_vulnerable | ${count((e) => e.label === 'not_vulnerable')} |`);
    const cwe = examples[0]!.cwe!;
    expect(row(cwe)).toMatch(new RegExp(`^\\| ${cwe} \\| ${count((e) => e.cwe === cwe)} \\|`));
    const tokens = examples.map((e) => e.tokens!).sort((a, b) => a - b);
    expect(card).toContain(`| ${tokens.length} | ${tokens.reduce((s, t) => s + t, 0)} | ${tokens[0]} |`);
    expect(row('reference')).toBe(`| reference | ${examples.length} |`);
    for (const e of examples) expect(card).toContain(`| ${e.task} | ${e.prompt_version} | ${e.prompt_hash.slice(0, 16)} |`);
    expect(card).toMatch(/Decontamination against \d+ evaluation samples: 0 samples dropped/);
    expect(lengthDropped).toBeGreaterThan(0);
    expect(card).toContain(`Length filter: ${lengthDropped} examples over 512 tokens dropped (ChatML template)`);
  });

  it('skips and reports malformed lines of --from, with their line numbers', async () => {
    const bad = join(fx.dir, 'bad.jsonl');
    const lines = readFileSync(distilled, 'utf8').split('\n').filter(Boolean);
    const broken = [lines[0]!, '{"messages": [', lines[1]!, JSON.stringify({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }] })];
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, broken.join('\n') + '\n');
    const dir = join(fx.dir, 'export-bad');
    const r = await fx.cli('export', '--format', 'messages', '--out', dir, '--from', bad, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ examples: 2, malformed: 2 });
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('Skipped: 2 malformed lines');
  });

  it('refuses a missing source or two sources', async () => {
    expect((await fx.cli('export', '--format', 'trl', '--out', join(fx.dir, 'x'))).code).toBe(2);
    expect((await fx.cli('export', '--format', 'trl', '--out', join(fx.dir, 'x'), '--from', distilled, '--dataset', 'syn')).code).toBe(2);
    expect((await fx.cli('export', '--format', 'nope', '--out', join(fx.dir, 'x'), '--from', distilled)).code).toBe(2);
  });
});

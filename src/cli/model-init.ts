import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { num, requireInt, requireStr, str, bool, type CommandSpec } from './command.js';
import { UsageError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { ARCHITECTURES, WEIGHT_TYPES, checkShape, writeRandomModel, type Architecture, type ModelShape, type WeightType } from '../engine/model-init.js';
import { WordCounter, trainBpe } from '../tokenizer/bpe-trainer.js';
import { countCorpusPath, countSynthCorpus, type CorpusStats } from '../tokenizer/corpus.js';
import { formatParameters } from '../engine/gguf/model-info.js';

export const command: CommandSpec = {
  name: 'model init',
  summary: 'write a randomly initialised llama/qwen2 GGUF with a freshly trained byte-level BPE tokenizer',
  description:
    'The tokenizer is trained on --tokenizer-corpus (a file or a folder), or by default on samples of the synthetic ' +
    'generator (code plus report JSON). Weights are seeded normal values (norms 1); 2-D weights use --type, norms and ' +
    'biases stay F32. The chat template is ChatML.',
  options: {
    arch: { type: 'string', help: 'architecture', choices: ARCHITECTURES, default: 'llama' },
    layers: { type: 'number', help: 'transformer blocks', default: 2 },
    embd: { type: 'number', help: 'embedding size', default: 64 },
    heads: { type: 'number', help: 'attention heads', default: 4 },
    'kv-heads': { type: 'number', help: 'key/value heads (grouped-query attention)', default: 2 },
    ff: { type: 'number', help: 'feed-forward size', default: 192 },
    ctx: { type: 'number', help: 'training context length written to the model', default: 2048 },
    seed: { type: 'number', help: 'random seed for the weights and the synthetic corpus', default: 1 },
    type: { type: 'string', help: 'storage type of the 2-D weights', choices: WEIGHT_TYPES, default: 'f32' },
    tied: { type: 'boolean', help: 'no output.weight: the output projection reuses token_embd.weight', default: false },
    'init-std': { type: 'number', help: 'standard deviation of the random weights', default: 0.02 },
    'vocab-size': { type: 'number', help: 'vocabulary size including the 3 ChatML special tokens', default: 2048 },
    'tokenizer-corpus': { type: 'string', help: 'text file or folder to train the tokenizer on', arg: 'PATH' },
    'tokenizer-samples': { type: 'number', help: 'synthetic samples used when no corpus is given', default: 2000 },
    name: { type: 'string', help: 'general.name written to the model', arg: 'NAME' },
    out: { type: 'string', help: 'output GGUF file (required)', arg: 'FILE' },
  },
  async run(ctx) {
    const a = ctx.args;
    const cmd = 'model init';
    const out = requireStr(a, cmd, 'out');
    const shape: ModelShape = {
      arch: str(a, 'arch') as Architecture,
      layers: requireInt(a, cmd, 'layers', 1)!,
      embd: requireInt(a, cmd, 'embd', 2)!,
      heads: requireInt(a, cmd, 'heads', 1)!,
      kvHeads: requireInt(a, cmd, 'kv-heads', 1)!,
      ff: requireInt(a, cmd, 'ff', 1)!,
      ctx: requireInt(a, cmd, 'ctx', 1)!,
      vocabSize: 0,
      tied: bool(a, 'tied'),
    };
    const problem = checkShape({ ...shape, vocabSize: 1 });
    if (problem) throw new UsageError(`${cmd}: ${problem}`);
    const vocabSize = requireInt(a, cmd, 'vocab-size', 259)!;
    const seed = requireInt(a, cmd, 'seed', 0)!;
    const initStd = num(a, 'init-std')!;
    if (!(initStd > 0)) throw new UsageError(`${cmd}: --init-std must be positive, got ${initStd}`);

    const started = Date.now();
    const counter = new WordCounter();
    const corpusPath = str(a, 'tokenizer-corpus');
    const corpus: CorpusStats = corpusPath
      ? countCorpusPath(corpusPath, counter)
      : await countSynthCorpus(requireInt(a, cmd, 'tokenizer-samples', 1)!, seed, counter);
    const progress = new Progress(ctx.logger, 'tokenizer merges', vocabSize - 259, 'merges');
    const trained = trainBpe(counter, {
      vocabSize,
      onProgress: (merges) => progress.tick(merges - progress.count),
    });
    progress.finish();
    const tokenizerSeconds = (Date.now() - started) / 1000;
    const vocab = trained.vocab;
    if (!trained.reachedTarget) {
      ctx.logger.warn(`the corpus supports only ${vocab.tokens.length} tokens (asked for ${vocabSize}); the model uses ${vocab.tokens.length}`);
    }
    ctx.logger.info(
      `tokenizer: ${vocab.tokens.length} tokens, ${vocab.merges.length} merges from ${trained.words} distinct words ` +
        `(${(corpus.bytes / 1e6).toFixed(2)} MB of ${corpus.source}) in ${tokenizerSeconds.toFixed(1)}s`,
    );

    const type = str(a, 'type') as WeightType;
    mkdirSync(dirname(out), { recursive: true });
    const written = writeRandomModel(out, {
      shape: { ...shape, vocabSize: vocab.tokens.length },
      vocab,
      type,
      seed,
      initStd,
      ...(str(a, 'name') ? { name: str(a, 'name')! } : {}),
    });
    const fileSize = statSync(out).size;
    ctx.result(
      {
        path: out,
        architecture: shape.arch,
        type,
        parameters: written.parameters,
        tensors: written.tensors,
        vocabSize: vocab.tokens.length,
        merges: vocab.merges.length,
        fileSize,
        tokenizer: { corpus: corpus.source, corpusBytes: corpus.bytes, words: trained.words, seconds: tokenizerSeconds },
      },
      `wrote ${out}: ${shape.arch}, ${formatParameters(written.parameters)} parameters, ${type}, vocabulary ${vocab.tokens.length}, ${(fileSize / 1e6).toFixed(2)} MB`,
    );
  },
};

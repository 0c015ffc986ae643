import { basename } from 'node:path';
import {
  LlamaChat,
  TokenBias,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type LLamaChatGenerateResponseOptions,
} from 'node-llama-cpp';
import { errorMessage, InputError } from '../util/errors.js';
import { checkAdapterFitsBase, readBaseModel } from './adapter-check.js';
import {
  InvalidRequestError,
  PromptTooLongError,
  type ChatBackend,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type ResponseFormat,
} from './chat-types.js';
import { toGrammarSchema, UnsupportedSchemaError } from './grammar-schema.js';
import { getSharedLlama, llamaLogMark, llamaLogSince } from './llama.js';

export interface AdapterSpec {
  path: string;
  /** Multiplies the adapter's alpha/rank; 0 turns it off. Default 1. */
  scale?: number;
}

export interface LocalStudentOptions {
  /** Base model GGUF. */
  model: string;
  adapters?: AdapterSpec[];
  /** Tokens; default the model's training context, at most 4096. */
  contextSize?: number;
  /** Default 1 (two threads collapse on some of these VMs). */
  threads?: number;
  /** Share one binding across students (tests, serve); default the process-wide one. */
  llama?: Llama;
  /** The id a server lists; default the model file name without .gguf. */
  id?: string;
}

const DEFAULT_MAX_CONTEXT = 4096;
const GRAMMAR_CACHE_SIZE = 16;

/**
 * A student in this process: a GGUF base with zero or more GGUF LoRA adapters, run by llama.cpp
 * through node-llama-cpp on the CPU. Requests run one at a time on one sequence, each from an
 * empty cache, so the same request always gives the same output (greedy by default).
 */
export class LocalStudent implements ChatBackend {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly grammars = new Map<string, Promise<{ grammar: LlamaGrammar; ignored: string[] }>>();
  private closed = false;
  private grammarTokenBias: TokenBias | undefined;

  private constructor(
    readonly id: string,
    readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly chat: LlamaChat,
    /** The same chat format for grammar-constrained generation (see grammarSafeWrapper). */
    private readonly grammarChat: LlamaChat,
    readonly adapters: readonly AdapterSpec[],
  ) {}

  static async load(options: LocalStudentOptions): Promise<LocalStudent> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new InputError(`threads must be a positive integer, got ${threads}`);
    const base = readBaseModel(options.model);
    const adapters = options.adapters ?? [];
    for (const a of adapters) {
      if (a.scale !== undefined && !Number.isFinite(a.scale)) throw new InputError(`${a.path}: adapter scale must be a finite number, got ${a.scale}`);
      checkAdapterFitsBase(a.path, base);
    }
    const llama = options.llama ?? (await getSharedLlama());
    const mark = llamaLogMark();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.model, gpuLayers: 0, useMmap: true });
    } catch (err) {
      throw new InputError(`${options.model}: llama.cpp could not load the model (${llamaLogSince(mark) || errorMessage(err)})`, err);
    }
    let context: LlamaContext;
    try {
      const contextSize = options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT);
      context = await model.createContext({
        contextSize,
        sequences: 1,
        threads: { ideal: threads, min: threads },
        failedCreationRemedy: false,
        ...(adapters.length > 0
          ? { lora: { adapters: adapters.map((a) => ({ filePath: a.path, scale: a.scale ?? 1 })) } }
          : {}),
      });
    } catch (err) {
      await model.dispose();
      const files = adapters.map((a) => a.path).join(', ');
      throw new InputError(
        `${files || options.model}: llama.cpp could not create the context (${llamaLogSince(mark) || errorMessage(err)})`,
        err,
      );
    }
    const sequence = context.getSequence();
    const chat = new LlamaChat({ contextSequence: sequence });
    const grammarChat = new LlamaChat({ contextSequence: sequence, chatWrapper: grammarSafeWrapper(chat.chatWrapper) });
    const id = options.id ?? basename(options.model).replace(/\.gguf$/i, '');
    return new LocalStudent(id, llama, model, context, sequence, chat, grammarChat, adapters);
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** The chat wrapper node-llama-cpp resolved from the model's template (e.g. "ChatML"). */
  get chatFormat(): string {
    return this.chat.chatWrapper.wrapperName;
  }

  tokenize(text: string): number[] {
    return this.model.tokenize(text);
  }

  /** With `specialTokens`, control tokens such as <|im_start|> appear as text. */
  detokenize(tokens: readonly number[], specialTokens = false): string {
    return this.model.detokenize(tokens as never, specialTokens);
  }

  /** Tokens the formatted prompt takes (the chat template applied, the assistant turn opened). */
  countPromptTokens(messages: ChatMessage[]): number {
    return this.promptTokens(messages).length;
  }

  /** The prompt tokens as generation sees them: the chat template applied, the assistant turn opened. */
  promptTokens(messages: ChatMessage[]): number[] {
    const history = [...toHistory(messages), { type: 'model', response: [] } as ChatHistoryItem];
    const { contextText } = this.chat.chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(this.model.tokenizer);
  }

  /**
   * The model's next-token distribution after `tokens` (evaluated from an empty cache), for
   * scoring (e.g. how likely the report starts with "vulnerable") and for numerical checks.
   */
  nextTokenProbabilities(tokens: readonly number[]): Promise<Map<number, number>> {
    return this.exclusive(async () => {
      if (tokens.length === 0) throw new InputError('nextTokenProbabilities needs at least one token');
      if (tokens.length >= this.contextSize) throw new PromptTooLongError(tokens.length, this.contextSize);
      await this.sequence.clearHistory();
      const input = tokens.map((t) => t as never);
      const last = input.pop()!;
      const out = await this.sequence.controlledEvaluate([...input, [last, { generateNext: { probabilities: true } }]]);
      const probabilities = out[out.length - 1]?.next.probabilities;
      if (!probabilities) throw new Error('llama.cpp returned no probabilities');
      return new Map([...probabilities].map(([t, p]) => [t as number, p]));
    });
  }

  complete(request: ChatRequest): Promise<ChatResult> {
    return this.exclusive(() => this.run(request));
  }

  /** One sequence: calls take turns. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(request: ChatRequest): Promise<ChatResult> {
    if (this.closed) throw new Error(`student ${this.id} is closed`);
    request.signal?.throwIfAborted();
    checkSampling(request);
    const history = toHistory(request.messages);
    const promptTokens = this.countPromptTokens(request.messages);
    const room = this.contextSize - promptTokens;
    if (room < 1) throw new PromptTooLongError(promptTokens, this.contextSize);
    const maxTokens = Math.min(request.maxTokens ?? room, room);
    const format = await this.grammarFor(request.responseFormat);

    await this.sequence.clearHistory();
    let completionTokens = 0;
    const options: LLamaChatGenerateResponseOptions = {
      maxTokens,
      temperature: request.temperature ?? 0,
      ...(request.topP !== undefined ? { topP: request.topP } : {}),
      ...(request.topK !== undefined ? { topK: request.topK } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.stop && request.stop.length > 0 ? { customStopTriggers: request.stop } : {}),
      ...(format ? { grammar: format.grammar, tokenBias: this.hiddenTokenBias() } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      repeatPenalty: false,
      onToken: (tokens) => {
        completionTokens += tokens.length;
      },
      ...(request.onTextChunk ? { onTextChunk: request.onTextChunk } : {}),
      contextShift: {
        strategy: () => {
          // Never drop part of the prompt silently.
          throw new PromptTooLongError(promptTokens + completionTokens, this.contextSize);
        },
      },
    };
    const response = await (format ? this.grammarChat : this.chat).generateResponse(history, options);
    return {
      text: response.response,
      finishReason: response.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
      usage: { promptTokens, completionTokens },
      ...(format && format.ignored.length > 0 ? { ignoredSchemaKeywords: format.ignored } : {}),
    };
  }

  /**
   * Bans every non-end-of-generation token whose text is hidden from the response (control
   * tokens such as <|im_start|>). llama.cpp's grammar matches such a token by its special text,
   * so a string could "contain" it, yet the response drops it: a string the grammar counted as
   * long enough could come out shorter, even empty. With these banned, the response holds exactly
   * what the grammar matched.
   */
  private hiddenTokenBias(): TokenBias {
    if (this.grammarTokenBias) return this.grammarTokenBias;
    const bias = new TokenBias(this.model.tokenizer);
    for (const token of this.model.iterateAllTokens()) {
      if (this.model.isEogToken(token)) continue;
      const attributes = this.model.getTokenAttributes(token);
      if (attributes.normal && !attributes.control && !attributes.userDefined) continue;
      const visible = this.model.detokenize([token], false);
      if (visible === '' || visible !== this.model.detokenize([token], true)) bias.set(token, 'never');
    }
    this.grammarTokenBias = bias;
    return bias;
  }

  private async grammarFor(format: ResponseFormat | undefined): Promise<{ grammar: LlamaGrammar; ignored: string[] } | undefined> {
    if (!format || format.type === 'text') return undefined;
    const key = format.type === 'json_object' ? 'json_object' : JSON.stringify(format.schema);
    const cached = this.grammars.get(key);
    if (cached) {
      this.grammars.delete(key);
      this.grammars.set(key, cached);
      return cached;
    }
    const created = this.createGrammar(format);
    this.grammars.set(key, created);
    created.catch(() => this.grammars.delete(key));
    while (this.grammars.size > GRAMMAR_CACHE_SIZE) this.grammars.delete(this.grammars.keys().next().value!);
    return created;
  }

  private async createGrammar(format: ResponseFormat): Promise<{ grammar: LlamaGrammar; ignored: string[] }> {
    if (format.type === 'json_object') return { grammar: await this.llama.getGrammarFor('json'), ignored: [] };
    if (format.type !== 'json_schema') throw new InvalidRequestError(`unknown response format`, 'response_format');
    let converted;
    try {
      converted = toGrammarSchema(format.schema);
    } catch (err) {
      if (err instanceof UnsupportedSchemaError) {
        throw new InvalidRequestError(`response_format.json_schema.schema ${err.message}`, 'response_format');
      }
      throw err;
    }
    try {
      return { grammar: await this.llama.createGrammarForJsonSchema(converted.schema as never), ignored: converted.ignored };
    } catch (err) {
      throw new InvalidRequestError(`response_format.json_schema: no grammar for this schema (${errorMessage(err)})`, 'response_format');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.chat.dispose();
    this.grammarChat.dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}

function checkSampling(r: ChatRequest): void {
  const bad = (param: string, why: string): never => {
    throw new InvalidRequestError(`${param} ${why}`, param);
  };
  if (r.maxTokens !== undefined && (!Number.isInteger(r.maxTokens) || r.maxTokens < 1)) bad('max_tokens', 'must be a positive integer');
  if (r.temperature !== undefined && !(r.temperature >= 0 && r.temperature <= 2)) bad('temperature', 'must be between 0 and 2');
  if (r.topP !== undefined && !(r.topP > 0 && r.topP <= 1)) bad('top_p', 'must be in (0, 1]');
  if (r.topK !== undefined && (!Number.isInteger(r.topK) || r.topK < 0)) bad('top_k', 'must be a non-negative integer');
  if (r.seed !== undefined && !Number.isInteger(r.seed)) bad('seed', 'must be an integer');
  if (r.messages.length === 0) bad('messages', 'must not be empty');
}

/**
 * The chat format for generation under a grammar: the same prompt, but only the stop triggers
 * that are real tokens (e.g. the <|im_end|> token, not the text "<|im_end|>") and no thought
 * segments. The grammar decides where the output ends; a string value that happens to contain a
 * trigger's text (or "<think>") must stay in the JSON instead of cutting it short or being moved
 * out of the response.
 */
function grammarSafeWrapper(wrapper: ChatWrapper): ChatWrapper {
  const safe = Object.create(wrapper) as ChatWrapper;
  Object.defineProperty(safe, 'settings', { value: { ...wrapper.settings, segments: undefined } });
  safe.generateContextState = (options) => {
    const state = wrapper.generateContextState(options);
    return { ...state, stopGenerationTriggers: state.stopGenerationTriggers.filter((t) => t.values.some((v) => typeof v !== 'string')) };
  };
  return safe;
}

/** OpenAI-style messages to node-llama-cpp's chat history (consecutive assistant turns stay separate). */
export function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  return messages.map((m): ChatHistoryItem => {
    switch (m.role) {
      case 'system':
        return { type: 'system', text: m.content };
      case 'user':
        return { type: 'user', text: m.content };
      case 'assistant':
        return { type: 'model', response: [m.content] };
    }
  });
}

import type { Clock } from '../clock.js';
import type { PriceTable } from '../cost.js';
import { TeacherApiError, redactKeys } from '../http/errors.js';
import { withRetries, type RetryPolicy } from '../http/retry.js';
import { HttpTransport, postJson } from '../http/transport.js';
import {
  errorResponse,
  estimateTokens,
  type CallContext,
  type CallOptions,
  type ProviderResponse,
  type TeacherPrompt,
  type TeacherProvider,
  type TokenUsage,
} from '../provider.js';

export interface HttpProviderConfig {
  model: string;
  /** e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1 */
  baseUrl: string;
  /** Read from the environment by the caller; never stored or logged. */
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  prices: PriceTable;
  clock: Clock;
  random?: () => number;
  onRetry?: (message: string) => void;
}

type OutputMode = 'json_schema' | 'plain';

/**
 * Any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server,
 * finesec serve). Talks HTTP itself instead of through the openai package: the retry rules, the
 * clock they wait on, the raw body of broken answers and the per-request cost are ours to control,
 * and the same transport serves the Anthropic provider, which has no SDK here.
 */
export class OpenAiProvider implements TeacherProvider {
  readonly kind = 'openai' as const;
  readonly isLlm = true;
  readonly needsLabels = false;
  readonly model: string;
  private readonly transport = new HttpTransport();
  private readonly url: URL;
  /** Servers that reject response_format get plain JSON instructions from then on. */
  private mode: OutputMode = 'json_schema';
  private readonly formatTail = new WeakMap<object, string>();
  private lastTail: { schema: object; mode: OutputMode; temperature: number | undefined; maxTokens: number | undefined; text: string } | undefined;
  /** `{"model":...,"messages":` */
  private readonly head: string;
  private readonly headers: Record<string, string>;
  private readonly retryPolicy: RetryPolicy;

  constructor(private readonly config: HttpProviderConfig) {
    this.model = config.model;
    this.url = new URL(config.baseUrl.replace(/\/+$/, '') + '/chat/completions');
    this.head = `{"model":${JSON.stringify(this.model)},"messages":`;
    this.headers = config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {};
    this.retryPolicy = {
      maxRetries: config.maxRetries,
      clock: config.clock,
      random: config.random,
      onRetry: ({ retry, delayMs, error }) => this.config.onRetry?.(`${this.id()}: ${redactKeys(error.message, this.config.apiKey)}; retry ${retry} in ${Math.round(delayMs)} ms`),
    };
  }

  id(): string {
    return `openai:${this.model}@${this.config.baseUrl}`;
  }

  /**
   * The logical request: always with the report schema as response_format. A server that rejects
   * response_format gets the same request without it, which is a fixed function of this request and
   * the endpoint; so cache keys stay the same whether or not this run has learnt that yet.
   */
  request(prompt: TeacherPrompt, _context: CallContext, options: CallOptions): Record<string, unknown> {
    return {
      model: this.model,
      messages: prompt.messages,
      temperature: options.temperature,
      max_tokens: options.maxTokens,
      response_format: responseFormat(prompt.responseSchema),
    };
  }

  /** The body sent: the request, without response_format once the server refused it; the schema serialised once. */
  requestBody(prompt: TeacherPrompt, options: CallOptions): string {
    // Only the messages are serialised per request; the model and the options around them are cached.
    return this.head + JSON.stringify(prompt.messages) + this.tail(prompt.responseSchema, options);
  }

  /** Everything after the messages: temperature, max_tokens and (unless refused) response_format. */
  private tail(schema: Record<string, unknown>, options: CallOptions): string {
    const last = this.lastTail;
    if (last && last.schema === schema && last.mode === this.mode && last.temperature === options.temperature && last.maxTokens === options.maxTokens) {
      return last.text;
    }
    const rest = JSON.stringify({ temperature: options.temperature, max_tokens: options.maxTokens }).slice(1);
    let text = rest === '}' ? '}' : ',' + rest;
    if (this.mode === 'json_schema') {
      let format = this.formatTail.get(schema);
      if (format === undefined) {
        format = `,"response_format":${JSON.stringify(responseFormat(schema))}}`;
        this.formatTail.set(schema, format);
      }
      text = text.slice(0, -1) + format;
    }
    this.lastTail = { schema, mode: this.mode, temperature: options.temperature, maxTokens: options.maxTokens, text };
    return text;
  }

  async callApi(prompt: TeacherPrompt, _context: CallContext, options: CallOptions): Promise<ProviderResponse> {
    const send = () => withRetries(() => postJson(this.transport, this.url, this.headers, this.requestBody(prompt, options), this.config.timeoutMs), this.retryPolicy);
    try {
      let answer;
      try {
        answer = await send();
      } catch (err) {
        if (!(this.mode === 'json_schema' && rejectsResponseFormat(err))) throw err;
        this.mode = 'plain';
        answer = await send();
      }
      return this.toResponse(prompt, answer.json);
    } catch (err) {
      if (err instanceof TeacherApiError) return errorResponse(redactKeys(err.message, this.config.apiKey), err.kind, err.fatal);
      throw err;
    }
  }

  private toResponse(prompt: TeacherPrompt, json: unknown): ProviderResponse {
    const body = json as {
      choices?: Array<{ message?: { content?: unknown; refusal?: unknown }; finish_reason?: string }>;
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    const choice = body.choices?.[0];
    const message = choice?.message;
    const output = contentText(message?.content) ?? (typeof message?.refusal === 'string' ? message.refusal : undefined);
    if (output === undefined) return errorResponse('the answer has no choices[0].message.content', 'invalid_response');
    const usage = readUsage(body.usage?.prompt_tokens, body.usage?.completion_tokens, prompt, output);
    return {
      output,
      tokenUsage: usage,
      cost: this.config.prices.cost(this.kind, this.model, usage),
      cached: false,
      ...(choice?.finish_reason ? { finishReason: choice.finish_reason } : {}),
    };
  }

  close(): void {
    this.transport.close();
  }
}

function responseFormat(schema: Record<string, unknown>): Record<string, unknown> {
  return { type: 'json_schema', json_schema: { name: 'vulnerability_report', schema, strict: false } };
}

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''));
    return parts.join('');
  }
  return undefined;
}

function rejectsResponseFormat(err: unknown): boolean {
  return err instanceof TeacherApiError && (err.status === 400 || err.status === 422) && /response_format|json_schema/i.test(err.message);
}

/** Usage as reported, or estimated from the text (marked as such) when the server reports none. */
export function readUsage(promptTokens: unknown, completionTokens: unknown, prompt: TeacherPrompt, output: string): TokenUsage {
  if (typeof promptTokens === 'number' && typeof completionTokens === 'number') {
    return { prompt: promptTokens, completion: completionTokens, total: promptTokens + completionTokens };
  }
  const p = prompt.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
  const c = estimateTokens(output);
  return { prompt: p, completion: c, total: p + c, estimated: true };
}

import { TeacherApiError, redactKeys } from '../http/errors.js';
import { withRetries } from '../http/retry.js';
import { HttpTransport, postJson } from '../http/transport.js';
import {
  errorResponse,
  type CallContext,
  type CallOptions,
  type ProviderResponse,
  type TeacherPrompt,
  type TeacherProvider,
} from '../provider.js';
import { readUsage, type HttpProviderConfig } from './openai.js';

export const anthropicVersion = '2023-06-01';
const toolName = 'record_vulnerability_report';

/**
 * Anthropic's Messages API over plain HTTP (x-api-key and anthropic-version headers). Structured
 * output through a forced tool call whose input schema is the report schema; a text answer is
 * accepted too and goes through the same JSON extraction as any other model's.
 */
export class AnthropicProvider implements TeacherProvider {
  readonly kind = 'anthropic' as const;
  readonly isLlm = true;
  readonly needsLabels = false;
  readonly model: string;
  private readonly transport = new HttpTransport();
  private readonly url: URL;

  constructor(private readonly config: HttpProviderConfig & { apiKey: string }) {
    this.model = config.model;
    this.url = new URL(config.baseUrl.replace(/\/+$/, '') + '/v1/messages');
  }

  id(): string {
    return `anthropic:${this.model}@${this.config.baseUrl}`;
  }

  request(prompt: TeacherPrompt, _context: CallContext, options: CallOptions): Record<string, unknown> {
    const system = prompt.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    return {
      model: this.model,
      max_tokens: options.maxTokens,
      temperature: Math.min(1, Math.max(0, options.temperature)),
      system,
      messages: prompt.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
      tools: [{ name: toolName, description: 'Record the vulnerability report for the audited function.', input_schema: prompt.responseSchema }],
      tool_choice: { type: 'tool', name: toolName },
    };
  }

  async callApi(prompt: TeacherPrompt, context: CallContext, options: CallOptions): Promise<ProviderResponse> {
    const headers = { 'x-api-key': this.config.apiKey, 'anthropic-version': anthropicVersion };
    try {
      const { json } = await withRetries(
        () => postJson(this.transport, this.url, headers, JSON.stringify(this.request(prompt, context, options)), this.config.timeoutMs),
        {
          maxRetries: this.config.maxRetries,
          clock: this.config.clock,
          random: this.config.random,
          onRetry: ({ retry, delayMs, error }) => this.config.onRetry?.(`${this.id()}: ${redactKeys(error.message, this.config.apiKey)}; retry ${retry} in ${Math.round(delayMs)} ms`),
        },
      );
      const body = json as {
        content?: Array<{ type?: string; text?: unknown; name?: string; input?: unknown }>;
        usage?: { input_tokens?: number; output_tokens?: number };
        stop_reason?: string;
      };
      if (!Array.isArray(body.content)) return errorResponse('the answer has no content array', 'invalid_response');
      const tool = body.content.find((b) => b.type === 'tool_use' && b.name === toolName);
      const output =
        tool !== undefined ? JSON.stringify(tool.input ?? null) : body.content.map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');
      const usage = readUsage(body.usage?.input_tokens, body.usage?.output_tokens, prompt, output);
      return {
        output,
        tokenUsage: usage,
        cost: this.config.prices.cost(this.kind, this.model, usage),
        cached: false,
        ...(body.stop_reason ? { finishReason: body.stop_reason } : {}),
      };
    } catch (err) {
      if (err instanceof TeacherApiError) return errorResponse(redactKeys(err.message, this.config.apiKey), err.kind, err.fatal);
      throw err;
    }
  }

  close(): void {
    this.transport.close();
  }
}

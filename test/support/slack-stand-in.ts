import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { checkBlocks } from './slack-stand-in-blocks';
import { bearerToken, parseArgs, readBody, stringArg } from './slack-stand-in-request';

/**
 * A local stand-in for Slack's Web API on 127.0.0.1, for the methods Firebreak calls: chat.postMessage,
 * chat.update, chat.postEphemeral, usergroups.users.list and auth.test. It accepts Slack's request shapes
 * (form-encoded or JSON bodies, `Authorization: Bearer xoxb-…` or a `token` form field) and returns Slack's
 * response shapes (HTTP 200 with `ok: true|false`). It keeps the messages it was sent and records every call.
 * `goDown('refuse')` closes the port, `goDown('unavailable')` returns 503, and `comeBack()` restores service.
 */

export interface RecordedCall {
  method: string;
  /** Request arguments with JSON-encoded fields (blocks) decoded. */
  args: Record<string, unknown>;
  contentType: string;
  authorization: string | undefined;
  /** Response body, or undefined when the stand-in returned 503. */
  response: Record<string, unknown> | undefined;
  at: Date;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  threadTs: string | undefined;
  edits: number;
}

export type DownMode = 'refuse' | 'unavailable';

export const standInTeam = { id: 'T0000TEST', domain: 'example-soc' } as const;
export const standInBot = { userId: 'U0000BOT1', botId: 'B0000BOT1' } as const;

type Handler = (args: Record<string, unknown>) => Record<string, unknown>;

export class SlackStandIn {
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, StoredMessage>();
  readonly userGroups = new Map<string, string[]>();
  /** Channel names (`#name`) that chat.postMessage resolves to channel ids, as Slack does. */
  readonly channelNames = new Map<string, string>();
  private downMode: DownMode | undefined;
  private server: Server;
  private port = 0;
  private tsCounter = 0;
  private readonly handlers: Readonly<Record<string, Handler>>;

  constructor(private readonly botTokens: ReadonlySet<string>) {
    this.server = this.createHttpServer();
    this.handlers = {
      'auth.test': () => this.authTest(),
      'chat.postMessage': (args) => this.postMessage(args),
      'chat.update': (args) => this.update(args),
      'chat.postEphemeral': (args) => this.postEphemeral(args),
      'usergroups.users.list': (args) => this.userGroupUsers(args),
    };
  }

  /** The WebClient `slackApiUrl` for this stand-in. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) {
      return;
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Goes down: `refuse` closes the port (connection refused), and `unavailable` returns 503 to every call. */
  async goDown(mode: DownMode): Promise<void> {
    this.downMode = mode;
    if (mode === 'refuse') {
      await this.close();
    }
  }

  /** Serves requests again, on the same port. */
  async comeBack(): Promise<void> {
    const wasRefusing = this.downMode === 'refuse';
    this.downMode = undefined;
    if (wasRefusing) {
      this.server = this.createHttpServer();
      await this.listen(this.port);
    }
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Resolves with the first recorded call to `method` that matches, waiting up to `timeoutMs`. */
  async waitForCall(
    method: string,
    matches: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<RecordedCall> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.calls.find((call) => call.method === method && call.response?.ok === true && matches(call));
      if (found !== undefined) {
        return found;
      }
      if (performance.now() > deadline) {
        const seen = this.calls.map((call) => call.method).join(', ') || 'none';
        throw new Error(`Slack stand-in: no successful ${method} call within ${timeoutMs} ms (calls seen: ${seen})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private createHttpServer(): Server {
    return createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawBody = await readBody(request);
    const method = new URL(request.url ?? '/', 'http://127.0.0.1').pathname.replace(/^\/api\//, '');
    const contentType = request.headers['content-type'] ?? '';
    const call: RecordedCall = {
      method,
      args: parseArgs(rawBody, contentType),
      contentType,
      authorization: request.headers.authorization,
      response: undefined,
      at: new Date(),
    };
    this.calls.push(call);

    if (this.downMode === 'unavailable' || request.method !== 'POST') {
      response.writeHead(this.downMode === 'unavailable' ? 503 : 405, { 'content-type': 'text/plain' });
      response.end(this.downMode === 'unavailable' ? 'Service Unavailable' : 'Method Not Allowed');
      return;
    }
    call.response = this.dispatch(method, call);
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(call.response));
  }

  private dispatch(method: string, call: RecordedCall): Record<string, unknown> {
    const handler = this.handlers[method];
    if (handler === undefined) {
      return { ok: false, error: 'unknown_method' };
    }
    const token = bearerToken(call.authorization) ?? stringArg(call.args, 'token');
    if (token === undefined) {
      return { ok: false, error: 'not_authed' };
    }
    if (!this.botTokens.has(token)) {
      return { ok: false, error: 'invalid_auth' };
    }
    return handler(call.args);
  }

  private authTest(): Record<string, unknown> {
    return {
      ok: true,
      url: `https://${standInTeam.domain}.slack.com/`,
      team: 'Example SOC',
      user: 'firebreak',
      team_id: standInTeam.id,
      user_id: standInBot.userId,
      bot_id: standInBot.botId,
      is_enterprise_install: false,
    };
  }

  private nextTs(): string {
    this.tsCounter += 1;
    const seconds = Math.floor(Date.now() / 1000);
    return `${seconds}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  /** Returns the Slack error response for a message request that Slack would reject. */
  private messageError(args: Record<string, unknown>): Record<string, unknown> | undefined {
    const channel = this.channelId(args);
    if (channel === undefined) {
      return { ok: false, error: 'channel_not_found' };
    }
    const text = stringArg(args, 'text');
    if ((text === undefined || text === '') && args.blocks === undefined) {
      return { ok: false, error: 'no_text' };
    }
    if (text !== undefined && text.length > 40_000) {
      return { ok: false, error: 'msg_too_long' };
    }
    const problem = args.blocks === undefined ? undefined : checkBlocks(args.blocks);
    return problem === undefined
      ? undefined
      : { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${problem}`] } };
  }

  private channelId(args: Record<string, unknown>): string | undefined {
    const channel = stringArg(args, 'channel') ?? '';
    return /^[CGD][A-Z0-9]{2,}$/.test(channel) ? channel : this.channelNames.get(channel);
  }

  private postMessage(args: Record<string, unknown>): Record<string, unknown> {
    const rejected = this.messageError(args);
    if (rejected !== undefined) {
      return rejected;
    }
    const channel = this.channelId(args) ?? '';
    const threadTs = stringArg(args, 'thread_ts');
    if (threadTs !== undefined && !this.messages.has(`${channel}/${threadTs}`)) {
      return { ok: false, error: 'thread_not_found' };
    }
    const ts = this.nextTs();
    const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
    const text = stringArg(args, 'text');
    this.messages.set(`${channel}/${ts}`, { channel, ts, text, blocks, threadTs, edits: 0 });
    return { ok: true, channel, ts, message: this.messageShape(ts, text, blocks) };
  }

  private update(args: Record<string, unknown>): Record<string, unknown> {
    const rejected = this.messageError(args);
    if (rejected !== undefined) {
      return rejected;
    }
    const channel = String(args.channel);
    const ts = stringArg(args, 'ts') ?? '';
    const stored = this.messages.get(`${channel}/${ts}`);
    if (stored === undefined) {
      return { ok: false, error: 'message_not_found' };
    }
    stored.text = stringArg(args, 'text');
    stored.blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
    stored.edits += 1;
    return { ok: true, channel, ts, text: stored.text, message: this.messageShape(ts, stored.text, stored.blocks) };
  }

  private postEphemeral(args: Record<string, unknown>): Record<string, unknown> {
    const rejected = this.messageError(args);
    if (rejected !== undefined) {
      return rejected;
    }
    if (stringArg(args, 'user') === undefined) {
      return { ok: false, error: 'user_not_found' };
    }
    return { ok: true, message_ts: this.nextTs() };
  }

  private userGroupUsers(args: Record<string, unknown>): Record<string, unknown> {
    const users = this.userGroups.get(stringArg(args, 'usergroup') ?? '');
    return users === undefined ? { ok: false, error: 'no_such_subteam' } : { ok: true, users };
  }

  private messageShape(ts: string, text: string | undefined, blocks: unknown[] | undefined): Record<string, unknown> {
    return {
      type: 'message',
      subtype: 'bot_message',
      text,
      ts,
      user: standInBot.userId,
      bot_id: standInBot.botId,
      blocks,
    };
  }
}

/** Starts a stand-in on a free loopback port that accepts the given bot tokens. */
export async function startSlackStandIn(botTokens: string[] = ['xoxb-firebreak-test']): Promise<SlackStandIn> {
  const standIn = new SlackStandIn(new Set(botTokens));
  await standIn.listen();
  return standIn;
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpSettings, Operations } from '../daemon/operations.js';
import type { Caller } from '../http/auth.js';
import type { StateReader } from '../http/state-reader.js';
import type { Html } from './html.js';
import { type PageFrame, type PanelAccess, page } from './panel-pages.js';

export const HTML_TYPE = 'text/html; charset=utf-8';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A panel page: its frame, its body, and whether it shows secrets (an operator's rendered userdata). */
export interface PanelView {
  frame: PageFrame;
  body: Html;
  secret?: boolean;
}

/** What every panel route shares: the daemon's view, the caller, rendering and sending pages. */
export interface PanelContext {
  daemon: Operations;
  reader: StateReader;
  callerFrom: (req: FastifyRequest) => Caller;
  http: () => HttpSettings;
  accessOf(caller: Caller): PanelAccess;
  /** The caller when it may read; else null, the browser sent to sign in. */
  readerOrLogin(req: FastifyRequest, reply: FastifyReply): Caller | null;
  sendPage(reply: FastifyReply, status: number, frame: PageFrame, body: Html): FastifyReply;
}

export function panelContext(
  daemon: Operations,
  reader: StateReader,
  callerFrom: (req: FastifyRequest) => Caller,
): PanelContext {
  const http = () => daemon.http();
  const accessOf = (caller: Caller): PanelAccess => ({
    who: caller.name,
    canOperate: caller.role === 'operate',
    tokens: http().tokens.length > 0,
    why:
      caller.role === 'operate'
        ? 'operate token'
        : http().tokens.length === 0
          ? 'Actions are disabled: the configuration defines no API token (add http.tokens with role operate)'
          : caller.role === 'read'
            ? 'This token has the read role; actions need an operate token'
            : 'Sign in with an operate token to act',
  });

  /** Reads need a token unless open: an anonymous browser is sent to sign in. */
  const readerOrLogin = (req: FastifyRequest, reply: FastifyReply): Caller | null => {
    let caller: Caller;
    try {
      caller = callerFrom(req);
    } catch {
      void reply.redirect('/login?bad=1', 303);
      return null;
    }
    if (caller.role === null && !http().openReads) {
      void reply.redirect('/login', 303);
      return null;
    }
    return caller;
  };

  const sendHtml = (reply: FastifyReply, status: number, bytes: Buffer | string) =>
    reply.code(status).header('content-type', HTML_TYPE).header('content-security-policy', CSP).send(bytes);
  const ctx: PanelContext = {
    daemon,
    reader,
    callerFrom,
    http,
    accessOf,
    readerOrLogin,
    sendPage: (reply, status, frame, body) => sendHtml(reply, status, page(frame, body).value),
  };
  return ctx;
}

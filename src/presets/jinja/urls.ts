import { escapeHtml } from './escape.js';

const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;

/** Jinja2's url_quote: UTF-8 percent-encoding; `/` kept outside query strings, spaces as `+` inside. */
export function urlQuote(s: string, forQs: boolean): string {
  let out = '';
  for (const ch of s) {
    if (ALWAYS_SAFE.test(ch) || (!forQs && ch === '/')) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return forQs ? out.replace(/%20/g, '+') : out;
}

const HTTP_RE =
  /^(?:(?:https?:\/\/|www\.)(?:(?:[\p{L}\p{N}_%-]+\.)+)?(?:[a-z]{2,63}|xn--[\p{L}\p{N}_%]{2,59})|(?:[\p{L}\p{N}_%-]{2,63}\.)+(?:com|net|int|edu|gov|org|info|mil)|(?:https?:\/\/)(?:(?:\d{1,3})(?:\.\d{1,3}){3}|\[(?:[\da-f]{0,4}:){2}(?:[\da-f]{0,4}:?){1,6}\]))(?::\d{1,5})?(?:[/?#]\S*)?$/iu;
const EMAIL_RE = /^\S+@[\p{L}\p{N}_][\p{L}\p{N}_.-]*\.[\p{L}\p{N}_]+$/u;

/** Jinja2's utils.urlize (3.1), word by word over the escaped text. */
export function urlize(
  value: string,
  trimLimit: number | undefined,
  rel: string,
  target: string | undefined,
): string {
  const trim = (x: string) =>
    trimLimit !== undefined && x.length > trimLimit ? `${x.slice(0, trimLimit)}...` : x;
  const relAttr = rel ? ` rel="${escapeHtml(rel).text}"` : '';
  const targetAttr = target ? ` target="${escapeHtml(target).text}"` : '';
  const words = escapeHtml(value).text.split(/(\s+)/);
  return words
    .map((word) => {
      let head = '';
      let middle = word;
      let tail = '';
      const lead = /^(?:[(<]|&lt;)+/.exec(middle);
      if (lead) {
        head = lead[0];
        middle = middle.slice(lead[0].length);
      }
      if (/(?:[)>.,\n]|&gt;)$/.test(middle)) {
        const m = /(?:[)>.,\n]|&gt;)+$/.exec(middle);
        if (m) {
          tail = m[0];
          middle = middle.slice(0, m.index);
        }
      }
      for (const [open, close] of [
        ['(', ')'],
        ['<', '>'],
        ['&lt;', '&gt;'],
      ] as const) {
        const opens = middle.split(open).length - 1;
        if (opens <= middle.split(close).length - 1) continue;
        for (let i = 0; i < Math.min(opens, tail.split(close).length - 1); i++) {
          const end = tail.indexOf(close) + close.length;
          middle += tail.slice(0, end);
          tail = tail.slice(end);
        }
      }
      if (HTTP_RE.test(middle)) {
        const href =
          middle.startsWith('https://') || middle.startsWith('http://') ? middle : `https://${middle}`;
        middle = `<a href="${href}"${relAttr}${targetAttr}>${trim(middle)}</a>`;
      } else if (middle.startsWith('mailto:') && EMAIL_RE.test(middle.slice(7))) {
        middle = `<a href="${middle}">${middle.slice(7)}</a>`;
      } else if (
        middle.includes('@') &&
        !middle.startsWith('www.') &&
        !middle.includes(':') &&
        EMAIL_RE.test(middle)
      ) {
        middle = `<a href="mailto:${middle}">${middle}</a>`;
      }
      return head + middle + tail;
    })
    .join('');
}

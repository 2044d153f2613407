/** Hides the password of `scheme://user:password@host` in any text. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):[^\s/@]*@/gi, '$1$2:***@');
}

/** Removes every secret (and any URL password) from a text that may come from git's output. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = redactUrl(text);
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.replaceAll(secret, '***');
    // git may print the secret percent-encoded (inside a URL).
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.replaceAll(encoded, '***');
  }
  return out;
}

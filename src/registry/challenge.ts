/**
 * WWW-Authenticate parsing (RFC 9110 §11.6.1): one header may hold several challenges, each a scheme and
 * comma-separated parameters whose quoted values may themselves contain commas (`scope="repository:a:pull,push"`).
 * A single left-to-right scan: linear time on any input.
 */

/** One challenge: the scheme in lower case and its parameters (names in lower case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const MAX_HEADER_LENGTH = 16 * 1024;

function isTokenChar(c: string): boolean {
  return /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(c);
}

/** Parses WWW-Authenticate header values into challenges, in order; malformed parts and challenges are skipped. */
export function parseChallenges(values: string | readonly string[]): Challenge[] {
  const list = typeof values === 'string' ? [values] : values;
  return list.flatMap((value) => parseOne(value.slice(0, MAX_HEADER_LENGTH)));
}

function parseOne(text: string): Challenge[] {
  const challenges: Challenge[] = [];
  let pos = 0;
  const skip = (chars: string): void => {
    while (pos < text.length && chars.includes(text[pos] ?? '')) pos++;
  };
  const token = (): string => {
    const start = pos;
    while (pos < text.length && isTokenChar(text[pos] ?? '')) pos++;
    return text.slice(start, pos);
  };
  /** A quoted string's value; undefined when the text ends before its closing quote. */
  const quoted = (): string | undefined => {
    pos++; // opening quote
    let out = '';
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\' && pos + 1 < text.length) pos++;
      out += text[pos];
      pos++;
    }
    if (pos >= text.length) return undefined;
    pos++; // closing quote
    return out;
  };

  while (pos < text.length) {
    skip(' \t,');
    const scheme = token();
    if (scheme === '') {
      pos++; // not a token character: skip it
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (let first = true; ; first = false) {
      skip(' \t');
      const start = pos;
      const name = token();
      if (name === '') break;
      skip(' \t');
      if (text[pos] !== '=') {
        if (!first) {
          pos = start; // after a comma, a token without "=" is the next challenge's scheme
          break;
        }
        challenge.params.token68 = name; // right after the scheme: a token68 credential ("Negotiate abc")
      } else {
        pos++;
        skip(' \t');
        if (text[pos] === '=' || text[pos] === ',' || pos >= text.length) {
          // token68 ending in "=" padding ("Basic abc=="): keep it whole
          skip('=');
          challenge.params.token68 = text.slice(start, pos).trim();
        } else {
          const value = text[pos] === '"' ? quoted() : token();
          if (value === undefined) {
            // An unterminated quote: the challenge is malformed, and guessing where its realm ends could send
            // credentials somewhere the registry never named.
            challenges.pop();
            break;
          }
          challenge.params[name.toLowerCase()] = value;
        }
      }
      skip(' \t');
      if (text[pos] !== ',') break;
      pos++;
    }
  }
  return challenges;
}

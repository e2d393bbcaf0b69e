/**
 * The policy's text tokenizer: byte-level, so any string is representable and there is nothing to train
 * or download. Ids 0-255 are the UTF-8 bytes of the text; the special tokens of the unified sequence
 * (§5.2.1: "each non-text modality is encapsulated within two distinct special tokens") follow at
 * 256-264, in the order of {@link SPECIAL_TOKEN_NAMES} — the same ids as `byteVocabulary`, so sequences
 * built with it line up with this tokenizer.
 *
 * Special tokens in text: {@link ByteTokenizer.encode} reads `<action_begin>` and the other written forms
 * as their special ids only when asked (`{ specials: true }`); by default, and always in
 * {@link ByteTokenizer.tokenize} (what the sequence builder calls), they are plain text, so user text can
 * never inject a segment boundary. {@link ByteTokenizer.decode} writes special ids as their written forms,
 * so `decode(encode(s, { specials: true })) === s` and `decode(encode(s)) === s` for every well-formed
 * string `s`.
 * @module
 */
import { SPECIAL_TOKEN_NAMES, byteVocabulary, type SpecialTokens, type TokenVocabulary } from '../special-tokens.js';

/** Ids of the byte tokenizer: 256 bytes and 9 special tokens. */
export const BYTE_TOKENIZER_VOCAB_SIZE: number = byteVocabulary.vocabSize;

/** Options of {@link ByteTokenizer.encode}. */
export interface ByteEncodeOptions {
  /** Read the written forms of special tokens (`<img_begin>`, …) as their ids (default false: plain text). */
  specials?: boolean;
}

/** Options of {@link ByteTokenizer.decode}. */
export interface ByteDecodeOptions {
  /** Leave special tokens out instead of writing their names (default false). */
  skipSpecials?: boolean;
  /** Throw on byte runs that are not valid UTF-8 (default false: they become U+FFFD, as `TextDecoder` does). */
  strict?: boolean;
}

const KEYS = Object.keys(SPECIAL_TOKEN_NAMES) as (keyof SpecialTokens)[];

/**
 * A byte-level tokenizer with the unified sequence's special tokens (see the module notes). It is a
 * {@link TokenVocabulary}, so it plugs into the sequence builder.
 *
 * @example
 * const tok = new ByteTokenizer();
 * tok.encode('pick <action_begin>', { specials: true }); // [112, 105, 99, 107, 32, 261]
 * tok.decode([104, 195, 169, 257]);                     // 'hé<img_begin>'
 */
export class ByteTokenizer implements TokenVocabulary {
  /** Special-token ids (256-264). */
  readonly specials: SpecialTokens = byteVocabulary.specials;
  /** 265: the bytes and the special tokens. */
  readonly vocabSize: number = BYTE_TOKENIZER_VOCAB_SIZE;
  readonly #encoder = new TextEncoder();
  readonly #names = new Map<number, string>(KEYS.map((k) => [this.specials[k], SPECIAL_TOKEN_NAMES[k]]));
  readonly #byName = new Map<string, number>(KEYS.map((k) => [SPECIAL_TOKEN_NAMES[k], this.specials[k]]));
  // One alternation of the written forms, longest first so no name shadows a longer one.
  readonly #pattern = new RegExp(
    [...this.#byName.keys()]
      .sort((a, b) => b.length - a.length)
      .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );

  /** The UTF-8 bytes of `text` as ids; never a special id (the `TokenVocabulary` contract). */
  readonly tokenize = (text: string): number[] => this.encode(text);

  /**
   * Text → ids: the UTF-8 bytes, and with `{ specials: true }` the written special tokens as their ids.
   * Lone UTF-16 surrogates (not valid Unicode) are encoded as U+FFFD, as `TextEncoder` does.
   */
  encode(text: string, opts: ByteEncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TypeError(`ByteTokenizer.encode: text must be a string, got ${typeof text}`);
    if (!opts.specials) return Array.from(this.#encoder.encode(text));
    const ids: number[] = [];
    let at = 0;
    for (const match of text.matchAll(this.#pattern)) {
      for (const b of this.#encoder.encode(text.slice(at, match.index))) ids.push(b);
      ids.push(this.#byName.get(match[0])!);
      at = match.index + match[0].length;
    }
    for (const b of this.#encoder.encode(text.slice(at))) ids.push(b);
    return ids;
  }

  /** Ids → text: byte runs decoded as UTF-8, special ids written by name (or skipped). Throws on ids outside [0, 265). */
  decode(ids: ArrayLike<number>, opts: ByteDecodeOptions = {}): string {
    const decoder = new TextDecoder('utf-8', { fatal: opts.strict ?? false });
    let out = '';
    let run: number[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      try {
        out += decoder.decode(Uint8Array.from(run));
      } catch {
        throw new RangeError(`ByteTokenizer.decode: bytes [${run.join(', ')}] are not valid UTF-8`);
      }
      run = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`ByteTokenizer.decode: id ${id} at index ${i} is outside [0, ${this.vocabSize})`);
      }
      if (id < 256) {
        run.push(id);
        continue;
      }
      flush();
      if (!opts.skipSpecials) out += this.#names.get(id)!;
    }
    flush();
    return out;
  }

  /** True when `id` is one of the special tokens. */
  isSpecial(id: number): boolean {
    return this.#names.has(id);
  }
}

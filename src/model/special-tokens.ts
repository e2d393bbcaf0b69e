/**
 * The special tokens of the unified sequence (§5.2.1: "each non-text modality is encapsulated within
 * two distinct special tokens") and a small byte-level text vocabulary that makes the sequence builder
 * usable before a real tokenizer is plugged in.
 * @module
 */

/**
 * Vocabulary ids of the special tokens. Each non-text segment of Eq. 2 sits between its begin and end
 * token: vision between `imageBegin`/`imageEnd`, state between `stateBegin`/`stateEnd`, a continuous
 * action chunk between `actionBegin`/`actionEnd`, and a chunk of discrete motion tokens (the MASK target
 * of Eq. 8-9) between `motionBegin`/`motionEnd`. `pad` fills batches.
 */
export interface SpecialTokens {
  /** Padding, `<pad>`. */
  readonly pad: number;
  /** `<img_begin>`. */
  readonly imageBegin: number;
  /** `<img_end>`. */
  readonly imageEnd: number;
  /** `<state_begin>`. */
  readonly stateBegin: number;
  /** `<state_end>`. */
  readonly stateEnd: number;
  /** `<action_begin>`. */
  readonly actionBegin: number;
  /** `<action_end>`. */
  readonly actionEnd: number;
  /** `<motion_begin>`. */
  readonly motionBegin: number;
  /** `<motion_end>`. */
  readonly motionEnd: number;
}

/** The written form of each special token, for tokenizer vocabularies and for printing sequences. */
export const SPECIAL_TOKEN_NAMES: Readonly<Record<keyof SpecialTokens, string>> = Object.freeze({
  pad: '<pad>',
  imageBegin: '<img_begin>',
  imageEnd: '<img_end>',
  stateBegin: '<state_begin>',
  stateEnd: '<state_end>',
  actionBegin: '<action_begin>',
  actionEnd: '<action_end>',
  motionBegin: '<motion_begin>',
  motionEnd: '<motion_end>',
});

const KEYS = Object.keys(SPECIAL_TOKEN_NAMES) as (keyof SpecialTokens)[];

/**
 * Throws unless every special id is a distinct non-negative integer (below `vocabSize` when given).
 * `where` names the caller in the message.
 */
export function checkSpecialTokens(specials: SpecialTokens, where: string, vocabSize?: number): void {
  const seen = new Map<number, string>();
  for (const key of KEYS) {
    const id = specials[key];
    if (!Number.isInteger(id) || id < 0 || (vocabSize !== undefined && id >= vocabSize)) {
      const bound = vocabSize === undefined ? '' : ` below vocabSize ${vocabSize}`;
      throw new RangeError(`${where}: special token ${key} must be a non-negative integer${bound}, got ${id}`);
    }
    const other = seen.get(id);
    if (other !== undefined) throw new RangeError(`${where}: special tokens ${other} and ${key} share id ${id}`);
    seen.set(id, key);
  }
}

/** The name of the special token with this id (`'<img_begin>'`), or undefined for an ordinary id. */
export function specialTokenName(specials: SpecialTokens, id: number): string | undefined {
  const key = KEYS.find((k) => specials[k] === id);
  return key === undefined ? undefined : SPECIAL_TOKEN_NAMES[key];
}

/** A text tokenizer and the special ids that go with it. */
export interface TokenVocabulary {
  /** Text → token ids (never a special id). */
  readonly tokenize: (text: string) => number[];
  /** The special tokens. */
  readonly specials: SpecialTokens;
  /** Number of ids (text and special). */
  readonly vocabSize: number;
}

const encoder = new TextEncoder();

/**
 * The default vocabulary: the UTF-8 bytes of the text are the ids 0-255, and the special tokens follow
 * at 256-264 (in the order of {@link SPECIAL_TOKEN_NAMES}), so `vocabSize` is 265.
 *
 * @example
 * byteVocabulary.tokenize('hé');   // [104, 195, 169]
 * byteVocabulary.specials.imageBegin; // 257
 */
export const byteVocabulary: TokenVocabulary = Object.freeze({
  tokenize: (text: string): number[] => Array.from(encoder.encode(text)),
  specials: Object.freeze(Object.fromEntries(KEYS.map((k, i) => [k, 256 + i])) as unknown as SpecialTokens),
  vocabSize: 256 + KEYS.length,
});

/**
 * Freezing presets of Table 6 ("Impact of human-centric learning in single-task 5-shot adaptation ... by
 * selectively freezing key architectural components"): the understanding expert ("Und"), the projector
 * ("Proj") and the ViT, alone or together; "The action expert remains trainable in all settings."
 *
 * The parts, by parameter name:
 * - `understanding`: the understanding expert of every MoT layer (`backbone.layers.<i>.understanding.*`),
 *   its final norm, and the text embedding (the LLM's, tied to the LM head) and any untied LM head;
 * - `vit`: `vision.vit.*`; `projector`: `vision.projector.*`;
 * - `action` (not in Table 6; for adapter-only post-training): everything else except ESA's slot-wise
 *   adapters — the action expert's layers and norm, the state and action encoders' shared layers, the MoF
 *   routing context, MPG and the motion head. Freezing all four leaves only the adapters of Eq. 12.
 * @module
 */
import type { Module } from '../../nn/index.js';

/** A freezable part of the policy (see the module notes). */
export type FreezablePart = 'understanding' | 'vit' | 'projector' | 'action';

/** Table 6's rows, plus `adapters-only` (every part but ESA's adapters frozen). */
export const FREEZE_PRESETS: Readonly<Record<string, readonly FreezablePart[]>> = Object.freeze({
  'und+proj+vit': Object.freeze(['understanding', 'projector', 'vit'] as const),
  'und+vit': Object.freeze(['understanding', 'vit'] as const),
  und: Object.freeze(['understanding'] as const),
  'proj+vit': Object.freeze(['projector', 'vit'] as const),
  none: Object.freeze([] as const),
  'adapters-only': Object.freeze(['understanding', 'vit', 'projector', 'action'] as const),
});

/** The name of a {@link FREEZE_PRESETS} entry. */
export type FreezePreset = 'und+proj+vit' | 'und+vit' | 'und' | 'proj+vit' | 'none' | 'adapters-only';

const PART_NAMES: readonly FreezablePart[] = ['understanding', 'vit', 'projector', 'action'];
const ADAPTER = /^(stateEncoder\.fc1|actionEncoder\.inProj|actionDecoder)\.adapters\./;

/** The part a policy parameter belongs to (by its dotted name), or null for ESA's slot-wise adapters. */
export function partOf(name: string): FreezablePart | null {
  if (name.startsWith('vision.vit.')) return 'vit';
  if (name.startsWith('vision.projector.')) return 'projector';
  if (/^backbone\.layers\.\d+\.understanding\./.test(name) || name.startsWith('backbone.understandingNorm.') || name.startsWith('textEmbedding.') || name.startsWith('lmHead.')) {
    return 'understanding';
  }
  return ADAPTER.test(name) ? null : 'action';
}

/**
 * Freezes the given parts of a policy (a preset name of {@link FREEZE_PRESETS} or a list of parts) and
 * unfreezes the rest; returns the names of the frozen parameters. Frozen parameters get no gradient, so
 * no optimiser step changes them (AdamW's decay included).
 *
 * @example
 * freezePolicy(policy, 'und+vit'); // Table 6: train the projector and the action expert
 */
export function freezePolicy(policy: Module, preset: FreezePreset | readonly FreezablePart[]): string[] {
  const parts = typeof preset === 'string' ? FREEZE_PRESETS[preset] : preset;
  if (parts === undefined) throw new RangeError(`freezePolicy: unknown preset '${String(preset)}'; presets are ${Object.keys(FREEZE_PRESETS).join(', ')}`);
  for (const p of parts) if (!PART_NAMES.includes(p)) throw new RangeError(`freezePolicy: unknown part '${String(p)}'; parts are ${PART_NAMES.join(', ')}`);
  const frozen: string[] = [];
  for (const [name, p] of policy.namedParameters()) {
    const part = partOf(name);
    const off = part !== null && parts.includes(part);
    p.requiresGrad = !off;
    if (off) {
      p.grad = null;
      frozen.push(name);
    }
  }
  return frozen;
}

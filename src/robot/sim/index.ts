/**
 * A small deterministic 2-D cross-embodiment tabletop world: coloured blocks and targets on a 1 m table,
 * four embodiments sharing the unified action space (Eq. 1) — a 2-link arm, a 3-link arm, a human hand
 * standing for MANO, and a held-out 4-link arm — rendered RGB observations, instructions, scripted
 * experts and demonstrations, closed-loop evaluation under inference latency (UAC's setting, Eq. 22-24),
 * a {@link RobotDriver}-compatible wrapper for the real-time runtime, and SVG drawings for reports.
 * Browser-safe: no Node APIs.
 * @module
 */
export { SIM_EMBODIMENTS, SIM_PRETRAIN_EMBODIMENTS, SIM_HELD_OUT_EMBODIMENT, SIM_LATENCY_BUDGET, GRIPPER_RANGE, CURL_RANGE, GRIPPER_CLOSED_BELOW, HAND_CLOSED_ABOVE, FINGER_NAMES, FINGER_SLOT_INDEX, simBody, simRobot, type SimEmbodimentName, type SimBody } from './bodies.js';
export { BLOCK_SIZE, BLOCK_HALF, BLOCK_RADIUS, TARGET_RADIUS, EEF_RADIUS, GRASP_DISTANCE, REACH_TOLERANCE, BLOCK_COLOURS, TARGET_SIDES, distance, type BlockColour, type TargetSide, type Point2, type BlockSnapshot, type TargetSnapshot, type EffectorSnapshot, type SceneSnapshot } from './scene.js';
export { SIM_TASK_KINDS, DEFAULT_MAX_STEPS, BLOCK_REGION, TARGET_CENTRES, TARGET_JITTER, taskInstruction, makeTask, sceneLayout, segmentDistance, type SimTaskKind, type SimTask, type SimTaskSpec, type SceneLayout, type TableRegion } from './tasks.js';
export { forwardKinematics, chainPoints, solveIK, wrapAngle, type PlanarChain, type PlanarPose, type IKTarget, type IKOptions, type IKResult } from './kinematics.js';
export { blocksOverlap, resolveBlocks, pushBlocks, type MutablePoint } from './contacts.js';
export { TabletopWorld, SIM_CONTROL_PERIOD, SIM_SUBSTEPS, type TabletopWorldOptions, type SimObservation } from './world.js';
export { renderScene, scenePrimitives, fingerLength, SIM_PALETTE, type SimPalette, type Rgb, type Primitive, type PaintStyle, type RectPrimitive, type DiscPrimitive, type RingPrimitive, type CapsulePrimitive, type RenderOptions } from './render.js';
export { sceneSvg, type SceneSvgOptions } from './svg.js';
export { expertAction, rawCommand, DEFAULT_EXPERT_NOISE, OPEN_CURL, CLOSED_CURL } from './expert.js';
export { recordDemonstration, demonstrationSamples, type Demonstration, type DemoFrame, type RecordDemonstrationOptions, type DemonstrationSampleOptions } from './demonstrations.js';
export { rolloutPolicy, actionJumps, type ChunkPolicy, type ChunkPolicyObservation, type ChunkPolicyContext, type RolloutOptions, type RolloutResult, type ActionJumps } from './rollout.js';
export { SimWorldDriver, type SimWorldDriverOptions } from './driver.js';

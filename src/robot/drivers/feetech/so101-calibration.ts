/**
 * A nominal SO-101 calibration: ids 1…6 in LeRobot's joint order, 0 rad at tick 2048 (mid-turn), the
 * tick limits at the URDF joint limits of `SO101_ROBOT`, and the gripper as a width over the URDF's jaw
 * range (closed jaw → 0 m, open jaw → `SO101_MAX_WIDTH`). It is what the emulator matches and a
 * template for a real arm's file — a real arm needs its own (each servo's zero and direction depend
 * on how it was mounted).
 * @module
 */
import { SO101_JAW_RANGE, SO101_MAX_WIDTH, SO101_ROBOT } from '../../embodiments/so101.js';
import { parseCalibration, calibrationToJSON, CALIBRATION_FORMAT, SO101_JOINT_NAMES, type Calibration } from './calibration.js';
import { TICKS_PER_REVOLUTION } from './control-table.js';

const MID = TICKS_PER_REVOLUTION / 2;
const toTicks = (rad: number): number => Math.min(TICKS_PER_REVOLUTION - 1, Math.max(0, Math.round(MID + (rad * TICKS_PER_REVOLUTION) / (2 * Math.PI))));

/** The nominal SO-101 calibration (see the module comment). */
export function nominalSo101Calibration(): Calibration {
  const joints: Record<string, unknown> = {};
  SO101_JOINT_NAMES.forEach((name, i) => {
    const id = i + 1;
    if (name === 'gripper') {
      const [closed, open] = SO101_JAW_RANGE.map(toTicks) as [number, number];
      joints[name] = { id, minTicks: closed, maxTicks: open, width: { closedTicks: closed, openTicks: open, closedWidth: 0, openWidth: SO101_MAX_WIDTH } };
      return;
    }
    const spec = SO101_ROBOT.joints.find((j) => j.name === name)!;
    joints[name] = { id, zeroTicks: MID, direction: 1, minTicks: toTicks(spec.min), maxTicks: toTicks(spec.max) };
  });
  return parseCalibration({ format: CALIBRATION_FORMAT, version: 1, joints });
}

/** The nominal SO-101 calibration as file text (a starting point to edit for a real arm). */
export function nominalSo101CalibrationJSON(): string {
  return JSON.stringify(calibrationToJSON(nominalSo101Calibration()), null, 2);
}

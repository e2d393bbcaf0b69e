// Run by test/robot/runtime/web-control-thread.test.ts: the runtime of §6 with its control thread in a
// module Web Worker (startWebControlThread), in Deno, from the built package. Prints one JSON line.
import { getRobot } from '../../dist/robot/embodiments/index.js';
import { RealtimeRuntime, SharedActionRing, StandInPolicy, simulatedDriverModule, startWebControlThread, type RuntimeEvent } from '../../dist/robot/runtime/index.js';

const robot = getRobot('so101');
const period = 0.01;
const ring = SharedActionRing.create({ chunkLength: 16, actionDim: robot.dof });
const control = await startWebControlThread(ring, { driver: simulatedDriverModule({ robot: 'so101' }), controlPeriod: period });
const policy = new StandInPolicy({ chunkLength: 16, actionDim: robot.dof, trainedMaxDelay: 12, maxStep: 0.001, latency: 0.02, lower: robot.lower, upper: robot.upper });
const runtime = new RealtimeRuntime({ control, policy, observe: () => ({ state: ring.readState()?.positions ?? robot.home }), controlPeriod: period, expectedLatency: 0.05 });
const events: RuntimeEvent[] = [];
runtime.on((e) => events.push(e));
runtime.start();
await new Promise((r) => setTimeout(r, 500));
// Block this thread until the worker has ticked 5 more times (or 10 s have passed).
const before = ring.ticks;
const giveUp = Date.now() + 10_000;
while (ring.ticks < before + 5 && Date.now() < giveUp);
const duringBlock = ring.ticks - before;
const m = await runtime.stop();
const exit = events.find((e) => e.type === 'control-exit');
console.log(
  JSON.stringify({
    runtime: 'deno',
    kind: control.kind,
    duringBlock,
    ticks: m.control.ticks,
    actions: m.control.actions,
    stitches: m.control.stitches,
    inferences: m.inference.inferences,
    prefixOverruns: m.control.prefixOverruns,
    maxJump: m.control.maxJump,
    policyMaxStep: policy.observedMaxStep,
    jitterSamples: m.control.jitter.count,
    exitError: exit && exit.type === 'control-exit' ? exit.error : 'no exit event',
    state: ring.readState()?.positions.length ?? null,
  }),
);

// Loaded before every test file (scripts/run-tests.mjs passes it with --import): fast-check runs from a
// fixed seed, so a CI run is reproducible. FC_SEED=<n> picks another seed, FC_SEED=random a fresh one
// per run (fast-check prints the seed of any failure, to replay it with FC_SEED).
import fc from 'fast-check';

const env = process.env['FC_SEED'];
if (env !== 'random') {
  const seed = env === undefined || env === '' ? 20261124 : Number(env);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or 'random', got ${JSON.stringify(env)}`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}

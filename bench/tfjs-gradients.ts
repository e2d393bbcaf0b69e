/**
 * Registers TensorFlow.js's gradient functions in Node, for benchmarks that train with tfjs.
 *
 * `@tensorflow/tfjs-core`'s Node entry point (a CommonJS bundle) registers no gradients: the union package
 * `@tensorflow/tfjs` imports `@tensorflow/tfjs-core/dist/register_all_gradients` for that, and only
 * tfjs-core is installed here. That file and its imports are ES modules with extensionless relative
 * specifiers (`'./gradients/Abs_grad'`), which Node's ESM loader refuses; so this installs a resolve hook
 * that retries such specifiers inside tfjs-core's `dist/` with `.js` (or `/index.js`) appended, then
 * imports the file. tfjs keeps its engine and registries on the global object and its `Tensor` class
 * answers `instanceof` structurally, so the gradients registered by this second copy of tfjs-core serve
 * the bundle that the benchmarks import.
 * @module
 */
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const parent = context.parentURL ?? '';
    const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier === '..' || specifier === '.';
    if (!relative || !parent.includes('/@tensorflow/tfjs-core/dist/') || /\\.[cm]?js$/.test(specifier)) throw e;
    try {
      return await next(specifier + '.js', context);
    } catch {
      return await next(specifier.replace(/\\/?$/, '/index.js'), context);
    }
  }
}
`;

let done: Promise<void> | null = null;

/** Registers every tfjs gradient (once); await it before `tf.variableGrads` or an optimizer's `minimize`. */
export function registerTfjsGradients(): Promise<void> {
  done ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(hooks)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return done;
}

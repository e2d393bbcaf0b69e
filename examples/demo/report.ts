/**
 * The demo's report: the results table (printed, and as Markdown and JSON), and the plots — loss curves,
 * success rates, the end-effector jumps (m) of experiment (c), and rollout pictures — written atomically into the
 * output folder.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/node/index.js';
import { sceneSvg } from '../../src/robot/index.js';
import type { ExperimentResults, ResultRow } from './experiments.js';
import { plot, type Layer } from '../plot.js';

/** The table's columns, in order. */
export const RESULT_COLUMNS = ['experiment', 'condition', 'embodiment', 'metric', 'value', 'trials', 'seeds'] as const;

/** A value as the table shows it. */
function show(v: number, metric: string): string {
  if (!Number.isFinite(v)) return String(v);
  return metric === 'success rate' ? `${(100 * v).toFixed(0)}%` : v.toFixed(3);
}

/** The results as a Markdown table (columns padded, so it also reads well in a terminal). */
export function resultsTable(rows: readonly ResultRow[]): string {
  const cells = rows.map((r) => [r.experiment, r.condition, r.embodiment, r.metric, show(r.value, r.metric), String(r.trials), r.seeds]);
  const widths = RESULT_COLUMNS.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j]!.length)));
  const line = (c: readonly string[]): string => `| ${c.map((x, j) => x.padEnd(widths[j]!)).join(' | ')} |`;
  return [line(RESULT_COLUMNS), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

const value = (rows: readonly ResultRow[], experiment: string, condition: string, embodiment: string, metric: string): number | null =>
  rows.find((r) => r.experiment.startsWith(experiment) && r.condition === condition && r.embodiment === embodiment && r.metric === metric)?.value ?? null;

/** Grouped bars: one group per category, one bar per series, values printed above the bars. */
function groupedBars(title: string, yLabel: string, categories: readonly string[], series: readonly string[], get: (category: string, series: string) => number | null, yMax?: number): string {
  const width = 0.8 / series.length;
  const layers: Layer[] = series.flatMap((name, j): Layer[] => {
    const xs: number[] = [];
    const ys: number[] = [];
    categories.forEach((c, i) => {
      const v = get(c, name);
      if (v !== null && Number.isFinite(v)) {
        xs.push(i);
        ys.push(v);
      }
    });
    const offset = (j - (series.length - 1) / 2) * width;
    return [
      { type: 'bars', x: xs, y: ys, barWidth: width * 0.95, offset, label: name },
      { type: 'text', x: xs.map((x) => x + offset), y: ys, text: ys.map((v) => (Math.abs(v) < 10 ? v.toFixed(2) : v.toPrecision(3))), size: 10 },
    ];
  });
  const lo = Math.min(0, ...layers.flatMap((l) => (l.type === 'bars' ? Array.from(l.y) : [])));
  return plot(layers, { title, yLabel, xCategories: categories, xDomain: [-0.6, categories.length - 0.4], ...(yMax !== undefined ? { yDomain: [lo, yMax * 1.08] as const } : {}), width: 640 }).svg;
}

/** Writes results.md, results.json and the plots into `dir`; returns the files written. */
export async function writeReport(dir: string, results: ExperimentResults, extra: { readonly header: string; readonly deployRows: readonly ResultRow[] }): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const rows = [...results.rows, ...extra.deployRows];
  const files: [string, string][] = [];
  files.push(['results.md', `${extra.header}\n\n${resultsTable(rows)}\n`]);
  files.push(['results.json', `${JSON.stringify({ rows, samples: results.samples, curves: results.curves.map((c) => ({ name: c.name, seconds: c.seconds, points: c.curve })) }, null, 1)}\n`]);
  files.push([
    'loss-curves.svg',
    plot(
      results.curves.map((c): Layer => ({ type: 'line', x: c.curve.map((p) => p.step), y: c.curve.map((p) => Math.log10(p.loss)), label: c.name })),
      { title: 'Pre-training loss (L_FM + L_MASK + MoF terms)', xLabel: 'optimiser step', yLabel: 'log10 loss', width: 640 },
    ).svg,
  ]);
  const embodiments = [...new Set(rows.filter((r) => r.experiment.startsWith('(a)')).map((r) => r.embodiment))];
  files.push(['success-a-generalist-vs-specialists.svg', groupedBars('(a) Closed-loop success: generalist vs specialists', 'success rate', embodiments, ['generalist', 'specialist'], (e, c) => value(rows, '(a)', c, e, 'success rate'), 1)]);
  const bRows = rows.filter((r) => r.experiment.startsWith('(b)'));
  files.push(['success-b-few-shot.svg', groupedBars(`(b) Few-shot adaptation to ${bRows[0]?.embodiment ?? 'the held-out arm'}`, 'success rate', bRows.map((r) => r.condition), ['success rate'], (c) => bRows.find((r) => r.condition === c)?.value ?? null, 1)]);
  const cEmb = [...new Set(rows.filter((r) => r.experiment.startsWith('(c)')).map((r) => r.embodiment))];
  for (const metric of new Set(rows.filter((r) => r.experiment.startsWith('(c)')).map((r) => r.metric))) {
    const name = `c-${metric.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '').toLowerCase()}.svg`;
    files.push([name, groupedBars(`(c) Under latency and observation noise: ${metric}`, metric, cEmb, ['UAC + MPG', 'neither'], (e, c) => value(rows, '(c)', c, e, metric), metric === 'success rate' ? 1 : undefined)]);
  }
  const dEmb = [...new Set(rows.filter((r) => r.experiment.startsWith('(d)')).map((r) => r.embodiment))];
  files.push(['d-mwds.svg', groupedBars('(d) MWDS on held-out demonstrations', 'MWDS (cosine)', dEmb, ['with masked motion', 'without masked motion'], (e, c) => value(rows, '(d)', c, e, 'MWDS'))]);
  for (const r of results.rollouts) {
    const trace = r.result.trace;
    if (!trace || trace.length === 0) continue;
    const title = `${r.name}: "${r.result.instruction}" — ${r.result.firstSuccess ? 'success' : 'failure'}`;
    files.push([`rollout-${r.name}.svg`, sceneSvg(trace[trace.length - 1]!, { trace, title })]);
  }
  for (const [name, text] of files) await writeFileAtomic(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}

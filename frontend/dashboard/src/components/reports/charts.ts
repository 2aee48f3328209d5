// The reports' two charts as uPlot options: volume over time (messages in
// and out, conversations opened and resolved) and how long first responses
// and resolutions took (the server's histogram bins). X is the row index,
// labelled with the row's day or hour, so the workspace's time zone (which
// the server already applied) is never re-applied by the browser's.
import uPlot from "uplot";

const COLORS = { in: "#2563eb", out: "#16a34a", opened: "#f59e0b", resolved: "#7c3aed" };

function categoryAxis(labels: string[]): uPlot.Axis {
  return {
    // Whole rows only; uPlot thins them when they crowd.
    incrs: [1, 2, 3, 4, 6, 7, 12, 14, 24, 30, 60],
    values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (labels[i] ?? "") : "")),
    gap: 4,
    size: 36,
  };
}

const countAxis: uPlot.Axis = { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, 1000000], size: 48 };

export interface VolumeSeries {
  labels: string[];
  in: number[];
  out: number[];
  opened: number[];
  resolved: number[];
}

export function volumeChart(v: VolumeSeries, names: Record<keyof typeof COLORS, string>) {
  const line = (key: keyof typeof COLORS): uPlot.Series => ({
    label: names[key],
    stroke: COLORS[key],
    width: 2,
    points: { show: v.labels.length <= 31, size: 5 },
  });
  const options: Omit<uPlot.Options, "width" | "height"> = {
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: [categoryAxis(v.labels), countAxis],
    series: [{ label: "", value: (_u, i) => (i === null ? "" : (v.labels[i] ?? "")) }, line("in"), line("out"), line("opened"), line("resolved")],
    cursor: { drag: { x: false, y: false } },
    // A key of the colours only: the figures themselves are in the table.
    legend: { live: false },
  };
  const data: uPlot.AlignedData = [v.labels.map((_, i) => i), v.in, v.out, v.opened, v.resolved];
  return { options, data };
}

export function histogramChart(labels: string[], first: number[], resolution: number[], names: { first: string; resolution: string }) {
  const bars = (align: -1 | 1) => uPlot.paths.bars?.({ size: [0.4, 60], align });
  const options: Omit<uPlot.Options, "width" | "height"> = {
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: [{ ...categoryAxis(labels), incrs: [1] }, countAxis],
    series: [
      { label: "", value: (_u, i) => (i === null ? "" : (labels[i] ?? "")) },
      { label: names.first, stroke: COLORS.in, fill: COLORS.in + "cc", width: 1, paths: bars(-1), points: { show: false } },
      { label: names.resolution, stroke: COLORS.resolved, fill: COLORS.resolved + "cc", width: 1, paths: bars(1), points: { show: false } },
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: false },
  };
  const data: uPlot.AlignedData = [labels.map((_, i) => i), first, resolution];
  return { options, data };
}

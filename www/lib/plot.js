// Canvas helpers shared by the demo's sections: device-pixel-ratio sizing, theme colours taken from
// the CSS variables (so light and dark themes apply to the drawings too), and a small line chart.

/** Read a CSS custom property of the document, e.g. themeColor('--accent'). */
export function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * Size the canvas backing store to its CSS box × devicePixelRatio and return a 2-D context whose units
 * are CSS pixels, with the box's width and height.
 * @param {HTMLCanvasElement} canvas
 */
export function fitCanvas(canvas) {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(rect.width || canvas.width));
  const height = Math.max(1, Math.round(rect.height || canvas.height));
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, height };
}

/** Call `redraw` when the system colour scheme or the window size changes. */
export function onThemeOrResize(redraw) {
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', redraw);
  let pending = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(redraw);
  });
}

/**
 * Draw one or more series as lines on shared axes.
 * @param {HTMLCanvasElement} canvas
 * @param {{series: {points: number[], color: string, dash?: number[], axis?: 'left'|'right'}[],
 *          xStep?: number, xLabel?: string, left: Axis, right?: Axis}} spec
 *   with Axis = {min: number, max: number, label: string, integer?: boolean}.
 *   `points[i]` is plotted at x = (i + 1) · xStep. An `integer` axis (a count) has its max raised to
 *   a multiple of the 4 tick intervals above min, so every tick is a whole number, shown without
 *   decimals. The margins are measured from the tick labels, so the rotated axis titles never overlap
 *   them. The tick labels drawn are recorded in `canvas.dataset.ticks` ({left, right}).
 */
export function lineChart(canvas, spec) {
  const { ctx, width, height } = fitCanvas(canvas);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;

  const TICKS = 4;
  const axisOf = (a) => a && (a.integer
    ? { ...a, max: a.min + Math.max(1, Math.ceil((a.max - a.min) / TICKS)) * TICKS }
    : a);
  const left = axisOf(spec.left);
  const right = axisOf(spec.right);
  const tickValue = (a, k) => a.max - ((a.max - a.min) * k) / TICKS;
  const labelsOf = (a) => (a ? Array.from({ length: TICKS + 1 }, (_, k) => formatTick(tickValue(a, k), a.integer)) : []);
  const leftTicks = labelsOf(left);
  const rightTicks = labelsOf(right);
  const widest = (labels) => Math.ceil(Math.max(0, ...labels.map((t) => ctx.measureText(t).width)));
  // Each side, from the edge: the rotated title (one 11 px line in a TITLE-wide strip), the tick
  // labels, right- or left-aligned GAP away from the plot.
  const TITLE = 20;
  const GAP = 6;
  const pad = {
    l: TITLE + widest(leftTicks) + GAP,
    r: right ? TITLE + widest(rightTicks) + GAP : 12,
    t: 10,
    b: 28,
  };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const fg = themeColor('--muted');

  const longest = Math.max(1, ...spec.series.map((s) => s.points.length));
  const xStep = spec.xStep ?? 1;
  const xMax = longest * xStep;
  const xOf = (i) => pad.l + (((i + 1) * xStep) / xMax) * w;
  const yOf = (v, axis) => {
    const a = axis === 'right' ? right : left;
    const t = (v - a.min) / (a.max - a.min || 1);
    return pad.t + h - Math.min(1, Math.max(0, t)) * h;
  };

  // Grid and axes.
  ctx.strokeStyle = themeColor('--grid');
  ctx.fillStyle = fg;
  ctx.textBaseline = 'middle';
  for (let k = 0; k <= TICKS; k++) {
    const y = pad.t + (h * k) / TICKS;
    ctx.beginPath();
    ctx.moveTo(pad.l, y + 0.5);
    ctx.lineTo(pad.l + w, y + 0.5);
    ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText(leftTicks[k], pad.l - GAP, y);
    if (right) {
      ctx.textAlign = 'left';
      ctx.fillText(rightTicks[k], pad.l + w + GAP, y);
    }
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(`0`, pad.l, pad.t + h + 4);
  ctx.textAlign = 'right';
  ctx.fillText(`${xMax}${spec.xLabel ? ' ' + spec.xLabel : ''}`, pad.l + w, pad.t + h + 4);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.save();
  ctx.translate(TITLE / 2, pad.t + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(left.label, 0, 0);
  ctx.restore();
  if (right) {
    ctx.save();
    ctx.translate(width - TITLE / 2, pad.t + h / 2);
    ctx.rotate(Math.PI / 2);
    ctx.fillText(right.label, 0, 0);
    ctx.restore();
  }
  canvas.dataset.ticks = JSON.stringify({ left: leftTicks, right: rightTicks });

  for (const s of spec.series) {
    if (s.points.length === 0) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    s.points.forEach((v, i) => {
      const x = xOf(i);
      const y = yOf(v, s.axis);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    if (s.points.length === 1) {
      ctx.fillStyle = s.color;
      ctx.fillRect(xOf(0) - 2, yOf(s.points[0], s.axis) - 2, 4, 4);
    }
  }
  ctx.setLineDash([]);
}

function formatTick(v, integer = false) {
  if (integer || Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Format a number of bytes as e.g. "9,876 B (9.6 KiB)". */
export function formatBytes(n) {
  return `${n.toLocaleString('en-US')} B (${(n / 1024).toFixed(1)} KiB)`;
}

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
 *          xStep?: number, xLabel?: string, left: {min: number, max: number, label: string},
 *          right?: {min: number, max: number, label: string}}} spec
 *   `points[i]` is plotted at x = (i + 1) · xStep.
 */
export function lineChart(canvas, spec) {
  const { ctx, width, height } = fitCanvas(canvas);
  const pad = { l: 44, r: spec.right ? 44 : 12, t: 10, b: 28 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const fg = themeColor('--muted');
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;

  const longest = Math.max(1, ...spec.series.map((s) => s.points.length));
  const xStep = spec.xStep ?? 1;
  const xMax = longest * xStep;
  const xOf = (i) => pad.l + (((i + 1) * xStep) / xMax) * w;
  const yOf = (v, axis) => {
    const a = axis === 'right' ? spec.right : spec.left;
    const t = (v - a.min) / (a.max - a.min || 1);
    return pad.t + h - Math.min(1, Math.max(0, t)) * h;
  };

  // Grid and axes.
  ctx.strokeStyle = themeColor('--grid');
  ctx.fillStyle = fg;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let k = 0; k <= 4; k++) {
    const y = pad.t + (h * k) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y + 0.5);
    ctx.lineTo(pad.l + w, y + 0.5);
    ctx.stroke();
    const lv = spec.left.max - ((spec.left.max - spec.left.min) * k) / 4;
    ctx.fillText(formatTick(lv), pad.l - 6, y);
    if (spec.right) {
      const rv = spec.right.max - ((spec.right.max - spec.right.min) * k) / 4;
      ctx.textAlign = 'left';
      ctx.fillText(formatTick(rv), pad.l + w + 6, y);
      ctx.textAlign = 'right';
    }
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(`0`, pad.l, pad.t + h + 4);
  ctx.textAlign = 'right';
  ctx.fillText(`${xMax}${spec.xLabel ? ' ' + spec.xLabel : ''}`, pad.l + w, pad.t + h + 4);
  ctx.textAlign = 'center';
  ctx.save();
  ctx.translate(10, pad.t + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(spec.left.label, 0, -6);
  ctx.restore();
  if (spec.right) {
    ctx.save();
    ctx.translate(width - 10, pad.t + h / 2);
    ctx.rotate(Math.PI / 2);
    ctx.fillText(spec.right.label, 0, -6);
    ctx.restore();
  }

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

function formatTick(v) {
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Format a number of bytes as e.g. "9,876 B (9.6 KiB)". */
export function formatBytes(n) {
  return `${n.toLocaleString('en-US')} B (${(n / 1024).toFixed(1)} KiB)`;
}

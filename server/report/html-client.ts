/**
 * The report page's own script (plain ES2020, run in the browser after Chart.js): reads the
 * embedded JSON and draws every chart. Kept as text so the server bundle never evaluates it;
 * no backticks or template placeholders inside, so it embeds verbatim.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var css = getComputedStyle(document.documentElement);
  var fg = css.getPropertyValue('--fg').trim() || '#222';
  var grid = css.getPropertyValue('--grid').trim() || '#ddd';
  var C = ['#2b6cb0', '#c05621', '#2f855a', '#b83280', '#6b46c1', '#b7791f', '#319795', '#e53e3e'];
  Chart.defaults.color = fg;
  Chart.defaults.borderColor = grid;
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  var drawn = 0;
  function make(id, config) {
    var el = document.getElementById(id);
    if (!el) return null;
    var chart = new Chart(el, config);
    drawn++;
    return chart;
  }
  function axis(title, type) {
    return { type: type || 'linear', title: { display: !!title, text: title || '' }, grid: { color: grid } };
  }
  function scatterConfig(datasets, xTitle, yTitle, extra) {
    var c = { type: 'scatter', data: { datasets: datasets }, options: { parsing: false, scales: { x: axis(xTitle), y: axis(yTitle) }, plugins: { legend: { display: datasets.length > 1 } } } };
    if (extra) for (var k in extra) c.options[k] = extra[k];
    return c;
  }

  if (data.history && data.history.points.length) {
    make('chart-history', scatterConfig([
      { label: 'score', data: data.history.points, pointRadius: 2, backgroundColor: C[0] + '99' },
      { label: 'running best', data: data.history.best, showLine: true, pointRadius: 0, borderColor: C[1], borderWidth: 2, stepped: true },
    ], 'trial', data.history.label));
  }
  if (data.importance && data.importance.labels.length) {
    make('chart-importance', {
      type: 'bar',
      data: { labels: data.importance.labels, datasets: [
        { label: 'fANOVA share', data: data.importance.share, backgroundColor: C[0] },
        { label: '-log10 p (scaled to max 1)', data: data.importance.anova, backgroundColor: C[1] },
      ] },
      options: { indexAxis: 'y', scales: { x: axis('share', 'linear'), y: { type: 'category', grid: { color: grid } } } },
    });
  }
  (data.slices || []).forEach(function (s, i) {
    make('chart-slice-' + i, scatterConfig([
      { label: 'trials', data: s.points, pointRadius: 2, backgroundColor: C[2] + '88' },
      { label: 'mean', data: s.mean, showLine: true, pointRadius: 3, borderColor: C[1], backgroundColor: C[1] },
      { label: 'max', data: s.max, showLine: true, pointRadius: 0, borderColor: C[3], borderDash: [4, 3] },
    ], s.param, data.history ? data.history.label : 'score'));
  });
  if (data.pareto) {
    make('chart-pareto', scatterConfig([
      { label: 'feasible trials', data: data.pareto.all, pointRadius: 2, backgroundColor: C[0] + '66' },
      { label: 'Pareto front', data: data.pareto.front, showLine: true, pointRadius: 4, borderColor: C[1], backgroundColor: C[1] },
    ], data.pareto.xLabel, data.pareto.yLabel));
  }
  if (data.hypervolume && data.hypervolume.length) {
    make('chart-hypervolume', scatterConfig([
      { label: 'hypervolume', data: data.hypervolume, showLine: true, pointRadius: 2, borderColor: C[2], backgroundColor: C[2] },
    ], 'feasible trials', 'hypervolume'));
  }
  if (data.equity && data.equity.length) {
    make('chart-equity', scatterConfig([
      { label: 'best trial equity', data: data.equity, showLine: true, pointRadius: 0, borderColor: C[0], borderWidth: 1.5 },
    ], 'bar', 'portfolio value'));
  }
  if (data.pbo && data.pbo.length) {
    make('chart-pbo', {
      type: 'bar',
      data: { labels: data.pbo.map(function (b) { return b.label; }), datasets: [{ label: 'splits', data: data.pbo.map(function (b) { return b.count; }), backgroundColor: data.pbo.map(function (b) { return b.hi <= 0 ? C[7] : C[2]; }) }] },
      options: { scales: { x: { type: 'category', title: { display: true, text: 'logit of the IS best\'s OOS rank (≤ 0: overfit)' } }, y: axis('splits') }, plugins: { legend: { display: false } } },
    });
  }
  if (data.walkForward && data.walkForward.length) {
    make('chart-walkforward', scatterConfig([
      { label: 'stitched out-of-sample equity', data: data.walkForward, showLine: true, pointRadius: 0, borderColor: C[4], borderWidth: 1.5 },
    ], 'bar', 'value'));
  }
  document.body.setAttribute('data-charts', String(drawn));
})();
`;

// gymrun board: the charts (drawn with uPlot from the data beside each figure), the
// comparison's picking of groups, the leaderboards' sorting, filtering, overlays and CSV,
// and, under `gymrun board --serve`, pages that follow the recordings as they change.
// Plain script, no framework; a page opened from disk works as well as a served one.
"use strict";

const board = {
  colours: ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf"],
  curves: {},  // reward curves by run id, as reward.js scripts hand them over
  waiting: {},  // callbacks for curves being loaded
  charts: new Map(),  // element -> uPlot
  picks: new Map(),  // group key -> ticked, for each group the reader ticked or unticked
};

function colour(n) { return board.colours[n % board.colours.length]; }

function dashes(n) { return n < board.colours.length ? undefined : [6, 3 + 2 * Math.floor(n / 10)]; }

function counted(count, noun) { return `${count} ${noun}${count === 1 ? "" : "s"}`; }

function jsonOf(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function figure(value) {
  if (value === null || value === undefined) return "—";
  if (Number.isInteger(value)) return String(value);
  return Number(value.toPrecision(4)).toString();
}

// -- charts -------------------------------------------------------------------------------

function chartWidth(element) {
  return Math.max(280, Math.min(900, element.parentElement.clientWidth || 800));
}

function draw(element, options, data) {
  const old = board.charts.get(element);
  if (old) old.destroy();
  element.textContent = "";
  const chart = new uPlot(Object.assign({ width: chartWidth(element), height: 340, legend: { live: false } }, options),
    data, element);
  board.charts.set(element, chart);
  return chart;
}

window.addEventListener("resize", () => {
  for (const [element, chart] of board.charts) chart.setSize({ width: chartWidth(element), height: 340 });
});

// A reward curve's script calls this: `gymrunCurve({...})`.
window.gymrunCurve = function (data) {
  board.curves[data.run] = data;
  for (const done of board.waiting[data.run] || []) done(data);
  delete board.waiting[data.run];
};

function loadCurve(id, src) {
  return new Promise((resolve, reject) => {
    if (board.curves[id]) { resolve(board.curves[id]); return; }
    (board.waiting[id] = board.waiting[id] || []).push(resolve);
    const script = document.createElement("script");
    script.src = src + (board.live ? "?v=" + board.live.version : "");
    script.onerror = () => reject(new Error("cannot load " + src));
    document.head.appendChild(script);
  });
}

function boundarySeries(boundary, episodes) {
  return episodes.map(() => boundary);
}

function drawReward(element, curve) {
  const x = curve.episode;
  const series = [{ label: "episode" },
    { label: "lowest", stroke: "rgba(31,119,180,0.35)", width: 1, points: { show: false } },
    { label: "highest", stroke: "rgba(31,119,180,0.35)", width: 1, points: { show: false } },
    { label: `mean of the last ${curve.window}`, stroke: "#d62728", width: 2,
      // a run of one window has one such mean: shown as a point
      points: { show: curve.rolling_mean.filter((v) => v !== null).length < 3, size: 7, fill: "#d62728" } }];
  const data = [x, curve.low, curve.high, curve.rolling_mean];
  if (curve.reward_boundary !== null) {
    series.push({ label: "boundary", stroke: "#2ca02c", dash: [6, 4], width: 1.5, points: { show: false } });
    data.push(boundarySeries(curve.reward_boundary, x));
  }
  draw(element, {
    title: curve.title,
    series,
    bands: [{ series: [2, 1], fill: "rgba(31,119,180,0.15)" }],
    axes: [{ label: "episode" }, { label: "reward" }],
    scales: { x: { time: false } },
  }, data);
}

function showRewardCharts() {
  for (const element of document.querySelectorAll("[data-chart=reward]")) {
    const id = element.dataset.run;
    delete board.curves[id];
    loadCurve(id, element.dataset.src).then((curve) => drawReward(element, curve));
  }
}

// -- the comparison page --------------------------------------------------------------------

const BAND = "95% band";

function ticked() {
  return new Set([...document.querySelectorAll("input[data-pick]")]
    .filter((box) => box.checked).map((box) => box.dataset.pick));
}

function drawProfiles() {
  const element = document.querySelector("[data-chart=profiles]");
  const profile = jsonOf("profile-data");
  if (!element || !profile) return;
  const picked = ticked();
  const shown = profile.keys.map((key, n) => [key, n]).filter(([key]) => picked.has(key));
  const note = document.getElementById("profiles-shown");
  const bands = shown.length <= 8;
  if (note) {
    const all = profile.keys.length, n = shown.length;
    const which = n === all
      ? (all === 1 ? "The one group with several runs is drawn" : `All ${all} groups with several runs are drawn`)
      : `${n} of the ${counted(all, "group")} with several runs ${n === 1 ? "is" : "are"} drawn, as ticked above`;
    const band = !bands ? ` (95% bands only for 8 groups or fewer${n === all ? ": untick some to see them" : ""}).`
      : n === 1 ? ", with its 95% band." : n ? ", each with its 95% band." : ".";
    note.textContent = which + band;
  }
  if (!shown.length) { element.textContent = "Tick a group above to draw its profile."; return; }
  const tau = profile.curves[0].tau;
  const series = [{ label: "τ" }];
  const data = [tau];
  const bandList = [];
  for (const [key, n] of shown) {
    const curve = profile.curves[n];
    const line = { label: profile.groups[n], stroke: colour(n), width: 2, dash: dashes(n),
      paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } };
    series.push(line);
    data.push(curve.fraction);
    if (bands) {
      const base = series.length;
      for (let edge = 0; edge < 2; edge++) {
        series.push({ label: BAND, stroke: "transparent", points: { show: false }, paths: uPlot.paths.stepped({ align: 1 }) });
      }
      data.push(curve.ci95[1], curve.ci95[0]);
      bandList.push({ series: [base, base + 1], fill: colour(n) + "26" });
    }
  }
  const chart = draw(element, {
    title: `${profile.env}: performance profiles`,
    series,
    bands: bandList,
    axes: [{ label: "run score τ (mean episode reward)" }, { label: "fraction of runs with score > τ" }],
    scales: { x: { time: false }, y: { range: [-0.02, 1.02] } },
    legend: { live: false },
  }, data);
  // band edges have no legend entry of their own
  for (const item of chart.root.querySelectorAll(".u-legend .u-series")) {
    if (item.textContent === BAND) item.remove();
  }
}

function improvement(a, b) {
  let above = 0, ties = 0;
  for (const x of a) for (const y of b) { if (x > y) above++; else if (x === y) ties++; }
  return a.length && b.length ? (above + 0.5 * ties) / (a.length * b.length) : null;
}

function heatColour(p) {
  // 0 red, 0.5 white, 1 blue
  const t = Math.max(0, Math.min(1, p));
  const [r, g, b] = t < 0.5 ? [214, 39 + (255 - 39) * t * 2, 40 + (255 - 40) * t * 2]
    : [255 - (255 - 31) * (t - 0.5) * 2, 255 - (255 - 119) * (t - 0.5) * 2, 255 - (255 - 180) * (t - 0.5) * 2];
  return `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;
}

function drawHeatMap() {
  const canvas = document.querySelector("canvas[data-chart=improvement]");
  const compare = jsonOf("compare-data");
  if (!canvas || !compare) return;
  const picked = ticked();
  const groups = compare.groups.filter((g) => g.run_scores.length && picked.has(g.key));
  const size = Math.max(1, groups.length);
  const side = Math.min(canvas.parentElement.clientWidth || 600, 640);
  const cell = Math.max(1, Math.floor(side / size));
  canvas.width = canvas.height = cell * size;
  canvas.style.width = canvas.style.height = cell * size + "px";
  const context = canvas.getContext("2d");
  const values = groups.map((a) => groups.map((b) => (a === b ? null : improvement(a.run_scores, b.run_scores))));
  values.forEach((row, i) => row.forEach((p, j) => {
    context.fillStyle = p === null ? "#999" : heatColour(p);
    context.fillRect(j * cell, i * cell, cell, cell);
  }));
  const tip = document.getElementById("improvement-tip");
  canvas.onmousemove = (event) => {
    const box = canvas.getBoundingClientRect();
    const i = Math.floor((event.clientY - box.top) / cell), j = Math.floor((event.clientX - box.left) / cell);
    if (!groups[i] || !groups[j] || i === j) { tip.textContent = "Point at a cell: P(row > column)."; return; }
    // the pair's cell in the table where it has one: its interval, or its value alone
    const entry = document.querySelector(`table.improvement tr[data-group="${groups[i].key}"] td[data-group="${groups[j].key}"]`);
    const text = entry ? entry.textContent.trim() : "—";
    const shown = text === "—" ? figure(values[i][j]) : text;
    tip.textContent = `P(${groups[i].label} > ${groups[j].label}) = ${shown}`;
  };
  const caption = document.getElementById("improvement-shown");
  if (caption) caption.textContent = `${counted(groups.length, "group")}, in the order of the table above (best IQM first).`;
}

function pickGroups() {
  for (const box of document.querySelectorAll("input[data-pick]")) {
    for (const cell of document.querySelectorAll(`table.improvement [data-group="${box.dataset.pick}"]`)) {
      cell.hidden = !box.checked;
    }
    const row = document.querySelector(`table.groups tr[data-group="${box.dataset.pick}"]`);
    if (row) row.classList.toggle("off", !box.checked);
  }
  drawProfiles();
  drawHeatMap();
}

function setUpComparison() {
  const boxes = document.querySelectorAll("input[data-pick]");
  if (!boxes.length) return;
  // A page refreshed live keeps the reader's own choices; every other group is ticked or
  // not as the page has it, as a reload would (a group new to the page included).
  const choose = (box, checked) => { box.checked = checked; board.picks.set(box.dataset.pick, checked); };
  for (const box of boxes) {
    if (board.picks.has(box.dataset.pick)) box.checked = board.picks.get(box.dataset.pick);
    box.addEventListener("change", () => { choose(box, box.checked); pickGroups(); });
  }
  for (const button of document.querySelectorAll("button[data-picks]")) {
    button.addEventListener("click", () => {
      const how = button.dataset.picks;
      boxes.forEach((box, n) => choose(box, how === "all" || (how === "best" && n < 10)));
      pickGroups();
    });
  }
  pickGroups();
}

// -- leaderboards ---------------------------------------------------------------------------

const COLUMNS = [  // [key, heading, sort value, class]
  ["pick", "select", null, ""],
  ["rank", "#", (r) => r.rank, "num"],
  ["run", "run", (r) => (r.name || "") + " " + r.id, ""],
  ["score", "mean reward [95% CI]", (r) => r.score, "num nowrap"],
  ["episodes", "episodes", (r) => r.episodes, "num"],
  ["boundary", "boundary", (r) => r.boundary, "num"],
  ["solved", "solved", (r) => verdictOrder(r), "small solved-cell"],
  ["agent", "agent", (r) => r.agent, "small"],
  ["wrappers", "wrappers", (r) => r.wrappers, "small"],
  ["date", "date (UTC)", (r) => r.date, "nowrap"],
  ["status", "status", (r) => r.status, ""],
];
const PAGE = 100;

// text made safe inside HTML, in an element or a quoted attribute (run names come from
// directory names, which may hold any character)
function escapeText(text) {
  const shown = text === null || text === undefined ? "—" : String(text);
  return shown.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

// Verdicts from the best to the worst, each by how close it came: solved (the earliest
// solve first), reached on average, within noise, then not solved or not reached (the
// nearest to its boundary first); a run with no verdict has no value here (shown last).
const VERDICTS = ["solved", "reached on average", "within noise", "not solved", "not reached on average"];
const TIERS = [0, 1, 2, 3, 3];

function verdictOrder(r) {
  const at = VERDICTS.indexOf(r.verdict);
  if (at < 0) return null;
  if (at === 0) return [0, r.solved_after ?? Infinity];
  const above = r.judged === null || r.boundary === null ? -Infinity : r.judged - r.boundary;
  return [TIERS[at], -above];
}

function compareValues(a, b) {
  const missing = (v) => v === null || v === undefined || (typeof v === "number" && isNaN(v));
  if (missing(a) || missing(b)) return missing(a) - missing(b);  // missing last, either way
  if (Array.isArray(a) && Array.isArray(b)) {  // in order: the first that differs decides
    for (let n = 0; n < Math.min(a.length, b.length); n++) {
      const found = compareValues(a[n], b[n]);
      if (found) return found;
    }
    return a.length - b.length;
  }
  if (typeof a === "number" && typeof b === "number") return a === b ? 0 : a < b ? -1 : 1;
  return String(a).localeCompare(String(b));
}

// The search box. Every word must match a run. A word is looked for in the run's name, id,
// agent, wrappers and status, as part of any of them, but a number at either end of it as a
// whole number ("0" is not in "p010" nor in "0.25", "epsilon=0.5" not in "epsilon=0.55");
// a number alone matches the seed too. "column:value" looks in one column only: run, seed
// (its value exactly), agent, wrapper or status; "seed 0" is "seed:0".
const SEARCH_RULE = "Every word must match. A word is looked for in the run's name, id, agent, "
  + "wrappers and status; a number in it as a whole number (0 is not in 10 or 0.25), and a number alone "
  + "matches the seed too. column:value looks in one column: run, seed, agent, wrapper, status "
  + "(seed 0 is seed:0).";
const SEARCHED = {
  run: (r) => [r.name, r.id],
  agent: (r) => [r.agent],
  wrapper: (r) => [r.wrappers],
  status: (r) => [r.status],
};
const NUMBER = /^[-+]?\d+(\.\d+)?$/;

function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

// whether `word` is in one of `texts`, a number at either end of it not part of a longer one
function foundIn(texts, word) {
  const before = /^\d/.test(word) ? "(?<![\\d.])" : "", after = /\d$/.test(word) ? "(?!\\d|\\.\\d)" : "";
  const found = new RegExp(before + escapeRegExp(word) + after);
  return texts.some((t) => t !== null && t !== undefined && found.test(String(t).toLowerCase()));
}

// the search box's text as tests of a row, one for each word
function searchTerms(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const terms = [];
  const seedIs = (value) => (r) => r.seed !== null && r.seed !== undefined && String(r.seed) === value;
  for (let n = 0; n < words.length; n++) {
    const word = words[n];
    const [key, value] = word.includes(":") ? [word.slice(0, word.indexOf(":")), word.slice(word.indexOf(":") + 1)] : [null, word];
    if (word === "seed" && NUMBER.test(words[n + 1] || "")) terms.push(seedIs(words[++n]));
    else if (key === "seed") terms.push(value ? seedIs(value) : () => true);
    else if (key !== null && Object.hasOwn(SEARCHED, key)) terms.push((r) => foundIn(SEARCHED[key](r), value));
    else if (NUMBER.test(word)) terms.push((r) => seedIs(word)(r) || foundIn([r.name, r.id, r.agent, r.wrappers], word));
    else terms.push((r) => foundIn([r.id, r.name, r.agent, r.wrappers, r.status], word));
  }
  return terms;
}

// A leaderboard: every run of an environment (its page), or its best runs (the index: only
// sorted, as filtering the best ten would find runs among them alone and not among all).
class Leaderboard {
  constructor(holder, rows, whole) {
    this.holder = holder;
    this.rows = rows;
    this.whole = whole;
    this.base = holder.dataset.base || "";
    // each per-episode metric the runs recorded (success rate…): its mean, after the boundary
    this.metrics = JSON.parse(holder.dataset.metrics || "[]");
    const headings = JSON.parse(holder.dataset.metricHeadings || "[]");
    const metricColumns = this.metrics.map((name, i) => [`metric:${name}`, `${escapeText(headings[i])} [95% CI]`,
      (r) => (r.metrics ? r.metrics[name] : null), "num nowrap"]);
    const columns = COLUMNS.filter(([key]) => (key !== "boundary" || holder.dataset.boundaries === "yes")
      && (key !== "pick" || whole));
    const solved = columns.findIndex(([key]) => key === "solved");
    this.columns = [...columns.slice(0, solved), ...metricColumns, ...columns.slice(solved)];
    this.sort = { key: "rank", down: false };
    this.filters = { text: "", agent: "", wrapper: "", status: "" };
    this.shown = whole ? PAGE : rows.length;
    this.selected = new Set();
    this.build();
    this.render();
  }

  build() {
    const head = `<thead><tr>${this.columns.map(([key, heading, value, cls]) =>
      value ? `<th scope="col" class="sortable ${cls.includes("num") ? "num" : ""}" data-sort="${key}" tabindex="0">${heading}</th>`
        : `<th scope="col">${heading}</th>`).join("")}</tr></thead>`;
    if (this.whole) this.buildTools(head);
    else {  // the page's own caption ("Best 10 of 33"), kept
      const caption = this.holder.querySelector("caption");
      this.holder.innerHTML = `<div class="table-wrap"><table class="leaderboard">${caption ? caption.outerHTML : ""}${head}<tbody></tbody></table></div>`;
    }
    for (const th of this.holder.querySelectorAll("th[data-sort]")) {
      const sortBy = () => {
        const key = th.dataset.sort;
        this.sort = { key, down: this.sort.key === key ? !this.sort.down : false };
        this.render();
      };
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(); } });
    }
  }

  // the search, filters, selection, overlay and CSV of an environment's every run
  buildTools(head) {
    const options = (values) => ["", ...[...new Set(values)].sort()]
      .map((v) => `<option value="${escapeText(v)}">${v === "" ? "any" : escapeText(v)}</option>`).join("");
    const wrappers = this.rows.flatMap((r) => (r.wrappers ? r.wrappers.split(", ") : ["—"]));
    this.holder.innerHTML = `
<div class="toolbar" role="search">
  <label>Find <input type="search" data-filter="text" placeholder="all words must match: dqn seed:0 status:running" title="${SEARCH_RULE}"></label>
  <label>agent <select data-filter="agent">${options(this.rows.map((r) => r.agent || "—"))}</select></label>
  <label>wrapper <select data-filter="wrapper">${options(wrappers)}</select></label>
  <label>status <select data-filter="status">${options(this.rows.map((r) => r.status))}</select></label>
  <span class="count" aria-live="polite"></span>
  <button type="button" data-action="overlay" disabled>Overlay the selected curves</button>
  <button type="button" data-action="clear" disabled>Clear the selection</button>
  <button type="button" data-action="csv">Download CSV</button>
</div>
<div class="table-wrap"><table class="leaderboard">${head}<tbody></tbody></table></div>
<p class="more"><button type="button" data-action="more">Show more runs</button></p>`;
    for (const input of this.holder.querySelectorAll("[data-filter]")) {
      input.addEventListener("input", () => { this.filters[input.dataset.filter] = input.value; this.shown = PAGE; this.render(); });
    }
    this.holder.querySelector("[data-action=more]").addEventListener("click", () => { this.shown += PAGE * 5; this.render(); });
    this.holder.querySelector("[data-action=csv]").addEventListener("click", () => this.download());
    this.holder.querySelector("[data-action=overlay]").addEventListener("click", () => this.overlay());
    this.holder.querySelector("[data-action=clear]").addEventListener("click", () => { this.selected.clear(); this.render(); });
    this.holder.querySelector("tbody").addEventListener("change", (event) => {
      const box = event.target.closest("input[data-select]");
      if (!box) return;
      if (box.checked) this.selected.add(box.dataset.select); else this.selected.delete(box.dataset.select);
      this.updateButtons();
    });
  }

  matching() {
    const { text, agent, wrapper, status } = this.filters;
    const terms = searchTerms(text);
    return this.rows.filter((r) => {
      if (agent && (r.agent || "—") !== agent) return false;
      if (status && r.status !== status) return false;
      if (wrapper && !(r.wrappers ? r.wrappers.split(", ") : ["—"]).includes(wrapper)) return false;
      return terms.every((term) => term(r));
    });
  }

  ordered() {
    const column = this.columns.find(([key]) => key === this.sort.key);
    const value = column[2];
    const sign = this.sort.down ? -1 : 1;
    return this.matching().map((r, n) => [r, n]).sort(([a, i], [b, j]) => {
      const found = compareValues(value(a), value(b));
      const missing = (v) => v === null || v === undefined;
      if (missing(value(a)) !== missing(value(b))) return found;  // missing last either way
      return sign * found || i - j;
    }).map(([r]) => r);
  }

  cell(row, key) {
    const c = row.cells;
    switch (key) {
      case "pick": return `<input type="checkbox" data-select="${escapeText(row.id)}" aria-label="select ${escapeText(row.id)}"${this.selected.has(row.id) ? " checked" : ""}>`;
      case "rank": return row.rank === null ? "—" : String(row.rank);
      case "run": return `<a href="${this.base}${row.href}" title="${escapeText(row.id)}">${escapeText(row.name)}</a><br><span class="muted small">seed ${escapeText(row.seed)}</span>`;
      default: return c[key] ?? "—";
    }
  }

  render() {
    const rows = this.ordered();
    this.current = rows;
    const body = this.holder.querySelector("tbody");
    body.innerHTML = rows.slice(0, this.shown).map((row) =>
      `<tr data-run="${escapeText(row.id)}">${this.columns.map(([key, , , cls]) =>
        `<td class="${key === "run" ? "run" : cls}">${this.cell(row, key)}</td>`).join("")}</tr>`).join("");
    for (const th of this.holder.querySelectorAll("th[data-sort]")) {
      if (th.dataset.sort === this.sort.key) th.setAttribute("aria-sort", this.sort.down ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    }
    if (!this.whole) return;
    const count = this.holder.querySelector(".count");
    count.textContent = rows.length === this.rows.length ? counted(rows.length, "run") : `${rows.length} of ${counted(this.rows.length, "run")}`;
    if (rows.length > this.shown) count.textContent += `, the first ${this.shown} shown`;
    this.holder.querySelector("[data-action=more]").hidden = rows.length <= this.shown;
    this.updateButtons();
  }

  updateButtons() {
    const none = this.selected.size === 0;
    this.holder.querySelector("[data-action=overlay]").disabled = none;
    this.holder.querySelector("[data-action=clear]").disabled = none;
    this.holder.querySelector("[data-action=overlay]").textContent = none ? "Overlay the selected curves" : `Overlay ${counted(this.selected.size, "selected curve")}`;
  }

  download() {
    const head = ["rank", "run", "name", "seed", "mean_reward", "ci95_low", "ci95_high", "episodes",
      "reward_boundary", ...this.metrics, "verdict", "episodes_before_solve", "agent", "wrappers", "started_at", "status"];
    const quote = (v) => {
      const text = v === null || v === undefined ? "" : String(v);
      return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    const lines = [head.join(",")].concat(this.current.map((r) => [r.rank, r.id, r.name, r.seed, r.score,
      r.low, r.high, r.episodes, r.boundary, ...this.metrics.map((name) => (r.metrics ? r.metrics[name] : null)), r.verdict, r.solved_after, r.agent, r.wrappers, r.date, r.status]
      .map(quote).join(",")));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
    link.download = (document.querySelector("h1").textContent.trim().replace(/[^A-Za-z0-9._-]+/g, "-") || "runs") + ".csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  overlay() {
    const ids = [...this.selected];
    const section = document.getElementById("overlay");
    const element = section.querySelector("[data-chart=overlay]");
    section.hidden = false;
    const byId = new Map(this.rows.map((r) => [r.id, r]));
    Promise.all(ids.map((id) => loadCurve(id, this.base + byId.get(id).href.replace(/index\.html$/, "reward.js"))
      .catch(() => null))).then((curves) => {
      const found = curves.filter(Boolean);
      if (!found.length) { element.textContent = "These runs have no episodes yet."; return; }
      // one x axis: every episode at which some curve has a point
      const xs = [...new Set(found.flatMap((c) => c.episode))].sort((a, b) => a - b);
      const data = [xs];
      const series = [{ label: "episode" }];
      found.forEach((curve, n) => {
        const at = new Map(curve.episode.map((e, i) => [e, curve.rolling_mean[i]]));
        data.push(xs.map((x) => (at.has(x) ? at.get(x) : null)));
        const row = byId.get(curve.run);
        series.push({ label: `${row.name} (seed ${row.seed})`, stroke: colour(n), dash: dashes(n), width: 2,
          spanGaps: true, points: { show: false } });
      });
      const boundaries = [...new Set(found.map((c) => c.reward_boundary).filter((b) => b !== null))];
      for (const boundary of boundaries) {
        data.push(xs.map(() => boundary));
        series.push({ label: `boundary ${figure(boundary)}`, stroke: "#2ca02c", dash: [6, 4], width: 1.5, points: { show: false } });
      }
      draw(element, { title: "Rolling mean reward", series, axes: [{ label: "episode" }, { label: "reward" }],
        scales: { x: { time: false } } }, data);
      section.scrollIntoView({ block: "nearest" });
    });
  }
}

// a run as the table sorts, filters and shows it: its row in leaderboard.json, its cells
function tableRow(run, cells) {
  const metrics = Object.fromEntries(Object.entries(run.metrics || {}).map(([name, m]) => [name, m.value]));
  return { id: run.id, href: cells.href, name: run.name, seed: run.seed, rank: run.rank,
    score: run.score.value, low: run.score.ci95[0], high: run.score.ci95[1], verdict: run.verdict,
    judged: run.judged ? run.judged.value : null,
    solved_after: run.episodes_before_solve, episodes: run.episodes, boundary: run.reward_boundary,
    agent: run.agent, wrappers: run.wrappers.join(", "), date: run.started_at, status: run.status,
    metrics, cells };
}

// An environment's page holds every run (its leaderboard.json and their cells); the index,
// each environment's best runs, by the environment (its `data-leaders`).
function setUpLeaderboards() {
  board.leaderboards = new Map();
  const leaders = jsonOf("leaders") || {};
  for (const holder of document.querySelectorAll("[data-table=leaderboard]")) {
    const key = holder.dataset.leaders;
    const whole = key === undefined;
    const { runs, cells } = whole ? { runs: (jsonOf("leaderboard") || {}).runs, cells: jsonOf("cells") } : leaders[key] || {};
    if (!runs || !cells) continue;
    board.leaderboards.set(key || "", new Leaderboard(holder, runs.map((run, n) => tableRow(run, cells[n])), whole));
  }
}

// -- following the recordings ------------------------------------------------------------
// Under `gymrun board --serve`, /live.json lists the pages each build wrote: a page that
// one of them rewrote fetches itself again and puts in the new content, keeping what the
// reader chose (sort, filters, selection, ticked groups); a page no longer on the board
// (its run removed from the recordings) says so. Opened from disk, or served by another
// server (no /live.json), a page stays as it is.

function pagePath() {
  let path = decodeURIComponent(location.pathname).replace(/^\//, "");
  if (path === "" || path.endsWith("/")) path += "index.html";
  return path;
}

function keepState() {
  const tables = new Map();
  for (const [key, table] of board.leaderboards || []) {
    const overlay = document.getElementById("overlay");
    tables.set(key, { sort: table.sort, filters: table.filters, shown: table.shown,
      selected: table.selected, overlay: overlay !== null && !overlay.hidden });
  }
  return { tables };
}

function restoreState(state) {
  for (const [key, kept] of state.tables) {
    const table = board.leaderboards.get(key);
    if (!table) continue;
    // (the index's best runs are all shown however many they became)
    Object.assign(table, { sort: kept.sort, filters: kept.filters, shown: table.whole ? kept.shown : table.shown,
      selected: kept.selected });
    for (const input of table.holder.querySelectorAll("[data-filter]")) input.value = table.filters[input.dataset.filter];
    table.render();
    if (kept.overlay && table.selected.size) {
      for (const id of table.selected) delete board.curves[id];
      table.overlay();
    }
  }
}

// what a page that is no longer on the board shows of, by its folder
const KINDS = { runs: "run", sweeps: "sweep", duels: "duel", envs: "environment" };

// The page's run (sweep, duel, environment) was removed from the recordings: said at the
// top, the rest of the page kept as it was (its links lead to the board as it is now).
function gone() {
  const main = document.querySelector("main");
  if (!main || main.querySelector(".gone")) return;
  const kind = KINDS[pagePath().split("/")[0]];
  const notice = document.createElement("p");
  notice.className = "problem gone";
  notice.setAttribute("role", "alert");
  notice.textContent = kind === "environment"
    ? "This environment has no runs in the recordings any more: they were removed since this page was built. What it showed is kept below."
    : `This ${kind || "page"} is no longer in the recordings: it was removed since this page was built. What it showed is kept below; the rest of the board is as the recordings are now.`;
  main.prepend(notice);
}

async function refresh() {
  const response = await fetch(location.href, { cache: "no-store" });
  if (response.status === 404) { gone(); return; }
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const main = document.querySelector("main");
  const next = fresh.querySelector("main");
  if (!main || !next) return;
  const state = keepState();
  for (const chart of board.charts.values()) chart.destroy();
  board.charts.clear();
  board.leaderboards = null;
  main.innerHTML = next.innerHTML;
  document.title = fresh.title;
  start();
  restoreState(state);
  document.dispatchEvent(new CustomEvent("board:refreshed"));
}

function follow() {
  if (!location.protocol.startsWith("http")) return;
  const here = pagePath();
  let version = null;
  const poll = async () => {
    let live;
    try {
      const response = await fetch("/live.json?page=" + encodeURIComponent(here), { cache: "no-store" });
      if (!response.ok) return false;  // not served by gymrun board --serve
      live = await response.json();
    } catch (error) {
      return true;  // the server is restarting, or gone for now
    }
    board.live = live;
    const removed = document.querySelector("main .gone") !== null;
    // gone: said, and not asked for again (a request of the page would only find it missing)
    if (live.there === false) { if (!removed) gone(); version = live.version; return true; }
    if (live.there === true && removed) { version = live.version; await refresh(); return true; }  // back again
    if (version === null || live.version === version) { version = live.version; return true; }
    const oldest = live.changes.length ? live.changes[0][0] : live.version;
    const mine = oldest > version + 1
      || live.changes.some(([built, pages]) => built > version && (pages === null || pages.includes(here)));
    version = live.version;
    if (mine) await refresh();
    return true;
  };
  const loop = async () => { if (await poll()) setTimeout(loop, 1000); };
  loop();
}

// -- start --------------------------------------------------------------------------------

function start() {
  showRewardCharts();
  setUpComparison();
  setUpLeaderboards();
}

if (typeof uPlot !== "undefined") { start(); follow(); }

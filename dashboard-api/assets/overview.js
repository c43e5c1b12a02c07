// Overview: headline figures, charts drawn as inline SVG by this file, and the dead letters.
"use strict";

(() => {
  const { el, api, duration, cost, tokens, markNav } = Dash;
  markNav("overview");
  const SVG = "http://www.w3.org/2000/svg";
  const STATUS_COLORS = { succeeded: "#2da44e", failed: "#e5534b", dead_lettered: "#a40e26", running: "#4c8dff", queued: "#d4a72c", cancelled: "#8b949e" };
  let hours = Number(new URLSearchParams(location.search).get("hours")) || 168;

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    children.forEach(c => node.append(c));
    return node;
  }

  function title(text) {
    return svg("title", {}, document.createTextNode(text));
  }

  function bucketLabel(date, hourly) {
    return hourly ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) : date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  }

  // Every bucket of the range, so empty hours and days show as gaps rather than vanish.
  function buckets(since, until, hourly) {
    const width = hourly ? 3600e3 : 86400e3;
    const list = [];
    for (let t = Math.floor(since.getTime() / width) * width; t < until.getTime(); t += width) list.push(t);
    return list;
  }

  // A round top for the axis, so the four grid lines get distinct labels.
  function niceMax(value, integer) {
    if (!(value > 0)) return integer ? 4 : 1;
    const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    const nice = [1, 2, 2.5, 5, 10].map(m => m * magnitude).find(m => m >= value);
    return integer ? Math.max(4, Math.ceil(nice / 4) * 4) : nice;
  }

  function frame(values, format, integer) {
    const W = 460, H = 220, left = 44, bottom = 22, top = 8;
    const max = niceMax(Math.max(...values, 0), integer);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
    for (let i = 0; i <= 4; i++) {
      const y = top + (H - top - bottom) * (1 - i / 4);
      root.append(svg("line", { x1: left, x2: W, y1: y, y2: y, class: "axis" }));
      const label = svg("text", { x: left - 6, y: y + 3, "text-anchor": "end" });
      label.textContent = format(max * i / 4);
      root.append(label);
    }
    return { root, W, H, left, bottom, top, max, plotH: H - top - bottom, plotW: W - left };
  }

  function xLabels(f, times, hourly) {
    const step = Math.max(1, Math.ceil(times.length / 8));
    const bw = f.plotW / times.length;
    times.forEach((t, i) => {
      if (i % step) return;
      const label = svg("text", { x: f.left + bw * i + bw / 2, y: f.H - 6, "text-anchor": "middle" });
      label.textContent = bucketLabel(new Date(t), hourly);
      f.root.append(label);
    });
  }

  function tasksChart(data, times, hourly) {
    const series = hourly ? data.counts_per_hour : data.counts_per_day;
    const width = hourly ? 3600e3 : 86400e3;
    const stacks = new Map(times.map(t => [t, {}]));
    for (const b of series) {
      const t = Math.floor(new Date(b.bucket_start).getTime() / width) * width;
      const stack = stacks.get(t);
      if (stack) stack[b.status] = (stack[b.status] || 0) + b.count;
    }
    const totals = times.map(t => Object.values(stacks.get(t)).reduce((a, b) => a + b, 0));
    const f = frame(totals, v => String(Math.round(v)), true);
    const bw = f.plotW / times.length;
    times.forEach((t, i) => {
      let y = f.top + f.plotH;
      for (const status of Object.keys(STATUS_COLORS)) {
        const n = stacks.get(t)[status] || 0;
        if (!n) continue;
        const h = f.plotH * n / f.max;
        y -= h;
        f.root.append(svg("rect", { class: "bar", x: f.left + bw * i + bw * 0.12, y, width: Math.max(1, bw * 0.76), height: h, fill: STATUS_COLORS[status], "data-status": status },
          title(`${bucketLabel(new Date(t), hourly)}: ${n} ${status.replace("_", "-")}`)));
      }
    });
    xLabels(f, times, hourly);
    document.getElementById("chart-tasks").replaceChildren(f.root);
    document.getElementById("legend-tasks").replaceChildren(...Object.entries(STATUS_COLORS).map(([s, c]) => {
      const item = el("span", { text: s.replace("_", "-") });
      item.style.setProperty("--swatch", c);
      return item;
    }));
  }

  function successChart(data, times, hourly) {
    const series = hourly ? data.counts_per_hour : data.counts_per_day;
    const width = hourly ? 3600e3 : 86400e3;
    const ok = new Map(), done = new Map();
    for (const b of series) {
      const t = Math.floor(new Date(b.bucket_start).getTime() / width) * width;
      if (["succeeded", "failed", "dead_lettered"].includes(b.status)) done.set(t, (done.get(t) || 0) + b.count);
      if (b.status === "succeeded") ok.set(t, (ok.get(t) || 0) + b.count);
    }
    const f = frame([1], v => Math.round(v * 100) + "%");
    const bw = f.plotW / times.length;
    const points = [];
    times.forEach((t, i) => {
      if (!done.get(t)) return;
      const rate = (ok.get(t) || 0) / done.get(t);
      points.push([f.left + bw * i + bw / 2, f.top + f.plotH * (1 - rate), rate, t, done.get(t)]);
    });
    if (points.length > 1) f.root.append(svg("polyline", { points: points.map(p => p[0] + "," + p[1]).join(" "), fill: "none", stroke: "#2da44e", "stroke-width": 2 }));
    for (const [x, y, rate, t, n] of points) {
      f.root.append(svg("circle", { class: "point", cx: x, cy: y, r: 3.5, fill: "#2da44e" }, title(`${bucketLabel(new Date(t), hourly)}: ${Math.round(rate * 100)}% of ${n}`)));
    }
    xLabels(f, times, hourly);
    document.getElementById("chart-success").replaceChildren(f.root);
  }

  function costChart(data, times) {
    const perDay = new Map(times.map(t => [t, 0]));
    for (const c of data.cost_per_day) {
      const t = new Date(c.day).getTime();
      if (perDay.has(t)) perDay.set(t, perDay.get(t) + c.cost_usd);
    }
    const values = times.map(t => perDay.get(t));
    const f = frame(values, v => "$" + (v < 10 ? v.toFixed(2) : Math.round(v)));
    const bw = f.plotW / times.length;
    values.forEach((v, i) => {
      const h = f.plotH * v / f.max;
      f.root.append(svg("rect", { class: "bar", x: f.left + bw * i + bw * 0.12, y: f.top + f.plotH - h, width: Math.max(1, bw * 0.76), height: h, fill: "#4c8dff" },
        title(`${bucketLabel(new Date(times[i]), false)}: ${cost(v)}`)));
    });
    xLabels(f, times, false);
    document.getElementById("chart-cost").replaceChildren(f.root);

    const byScope = new Map();
    for (const c of data.cost_per_day) {
      const key = (c.scope || "–") + " · " + c.provider;
      const agg = byScope.get(key) || { cost: 0, tasks: 0, tokens: 0 };
      agg.cost += c.cost_usd; agg.tasks += c.tasks; agg.tokens += c.input_tokens + c.output_tokens;
      byScope.set(key, agg);
    }
    const rows = [...byScope.entries()].sort((a, b) => b[1].cost - a[1].cost).slice(0, 12);
    const top = rows.length ? rows[0][1].cost || 1 : 1;
    const table = el("table", { class: "tasks" }, el("thead", {}, el("tr", {}, el("th", { text: "Where" }), el("th", { class: "num", text: "Tasks" }), el("th", { class: "num", text: "Tokens" }), el("th", { class: "num", text: "Cost" }), el("th", { class: "bar-cell" }))),
      el("tbody", {}, rows.map(([key, agg]) => {
        const bar = el("div", { class: "bar" });
        bar.style.cssText = `height:8px;border-radius:4px;background:#4c8dff;width:${Math.max(2, 100 * agg.cost / top)}%`;
        return el("tr", {}, el("td", { class: "mono", text: key }), el("td", { class: "num", text: agg.tasks }), el("td", { class: "num", text: tokens(agg.tokens) }), el("td", { class: "num", text: cost(agg.cost) }), el("td", { class: "bar-cell" }, bar));
      })));
    document.getElementById("cost-by-scope").replaceChildren(rows.length ? table : el("div", { class: "empty", text: "No cost recorded in this range." }));
  }

  function card(label, value, sub) {
    return el("div", { class: "card" }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }), sub ? el("div", { class: "sub", text: sub }) : null);
  }

  function renderCards(data) {
    const q = data.queue;
    const waiting = q ? Object.values(q.waiting).reduce((a, b) => a + b, 0) : null;
    document.getElementById("cards").replaceChildren(
      card("Tasks", data.total, Object.entries(data.by_provider).map(([p, n]) => p + " " + n).join(" · ")),
      card("Success rate", data.success_rate === null ? "–" : Math.round(data.success_rate * 1000) / 10 + "%", (data.by_status.succeeded || 0) + " succeeded, " + ((data.by_status.failed || 0) + (data.by_status.dead_lettered || 0)) + " failed"),
      card("Duration p50 / p95", duration(data.duration.p50_ms) + " / " + duration(data.duration.p95_ms), data.duration.count + " finished"),
      card("Cost", cost(data.total_cost_usd), tokens(data.total_input_tokens) + " in · " + tokens(data.total_output_tokens) + " out"),
      card("Queue", q ? waiting : "–", q ? `high ${q.waiting.high ?? 0} · normal ${q.waiting.normal ?? 0} · low ${q.waiting.low ?? 0}` : data.queue_error),
      card("In flight", q ? q.in_flight : "–", q ? q.delayed + " waiting to retry" : ""),
      card("Dead letters", q ? q.dead_lettered : "–"));
  }

  async function loadDeadLetters() {
    const body = document.getElementById("dead-rows");
    try {
      const page = await api("/api/v1/dead-letters?limit=100");
      document.getElementById("dead-count").textContent = page.dead_letters.length ? page.dead_letters.length + (page.next_after ? "+" : "") : "";
      body.replaceChildren(...page.dead_letters.map(d => {
        const button = el("button", { type: "button", text: "Re-queue", disabled: !d.task_id, onclick: async () => {
          button.disabled = true;
          try {
            await api("/api/v1/dead-letters/" + encodeURIComponent(d.task_id) + "/requeue", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: "{}" });
            button.textContent = "Queued";
            setTimeout(load, 800);
          } catch (error) {
            button.textContent = error.message;
          }
        } });
        return el("tr", {}, el("td", {}, d.task_id ? el("a", { class: "mono", href: "/tasks/" + d.task_id, text: d.task_id }) : el("span", { class: "muted", text: "unreadable entry " + d.entry_id })),
          el("td", { text: d.failed_at ? new Date(d.failed_at).toLocaleString() : "–" }), el("td", { text: d.attempts ?? "–" }), el("td", { class: "instruction", title: d.error || "", text: d.error || "–" }), el("td", {}, button));
      }));
      document.getElementById("dead-empty").classList.toggle("hidden", page.dead_letters.length > 0);
    } catch (error) {
      body.replaceChildren();
      document.getElementById("dead-count").textContent = error.message;
    }
  }

  async function load() {
    document.querySelectorAll("#range button").forEach(b => b.classList.toggle("active", Number(b.dataset.hours) === hours));
    const until = new Date();
    const since = new Date(until.getTime() - hours * 3600e3);
    try {
      const data = await api(`/api/v1/analytics?since=${encodeURIComponent(since.toISOString())}&until=${encodeURIComponent(until.toISOString())}`);
      document.getElementById("error").classList.add("hidden");
      const hourly = hours <= 48;
      renderCards(data);
      tasksChart(data, buckets(since, until, hourly), hourly);
      successChart(data, buckets(since, until, hourly), hourly);
      costChart(data, buckets(since, until, false));
    } catch (error) {
      const box = document.getElementById("error");
      box.textContent = "Could not load the figures: " + error.message;
      box.classList.remove("hidden");
    }
    loadDeadLetters();
  }

  document.querySelectorAll("#range button").forEach(b => b.addEventListener("click", () => {
    hours = Number(b.dataset.hours);
    history.replaceState(null, "", "?hours=" + hours);
    load();
  }));
  load();
  setInterval(() => { if (!document.hidden) load(); }, 30000);
})();

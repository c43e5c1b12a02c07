// One task: its summary, the stages it went through, and every log line of every service on one
// timeline, kept live through the task's Server-Sent Events stream until the task ends.
"use strict";

(() => {
  const { el, api, badge, isTerminal, duration, cost, tokens, dateTime, markNav } = Dash;
  markNav("tasks");
  const taskId = decodeURIComponent(location.pathname.split("/").pop());
  const STREAMS = [
    ["webhook_flow", "Webhook", "webhook"],
    ["queue_flow", "Queue", "queue"],
    ["agent_output", "Agent", "agent"],
    ["microservices_flow", "Provider calls", "services"],
  ];
  const HEADER_KEYS = new Set(["ts", "task_id", "service", "type", "stage"]);
  const timeline = document.getElementById("timeline");
  const follow = document.getElementById("follow");
  const liveBadge = document.getElementById("live");
  const entries = [];           // { ts, stream, line, event, node }
  const counts = { webhook_flow: 0, queue_flow: 0, agent_output: 0, microservices_flow: 0 };
  const hiddenStreams = new Set();
  let lastTsByStream = {};
  let detail = null;            // from /api/v1/tasks/{id}
  let source = null;

  function showError(message) {
    const box = document.getElementById("error");
    box.textContent = message;
    box.classList.remove("hidden");
  }

  function pretty(value) {
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function short(value, max) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text.length > max ? text.slice(0, max) + "…" : text;
  }

  function collapsible(label, value, open) {
    return el("details", open ? { open: true } : {}, el("summary", { text: label }), el("pre", { text: pretty(value) }));
  }

  function isError(event, kind) {
    return Boolean(event.corrupt) || /error|fail|dead_letter/.test(kind) || event.is_error === true || event.ok === false
      || (typeof event.status === "number" && event.status >= 400) || ["failed", "dead_lettered"].includes(event.status) || (typeof event.error === "string" && event.error.length > 0);
  }

  function extras(event, skip) {
    const rest = {};
    for (const [key, value] of Object.entries(event)) {
      if (!HEADER_KEYS.has(key) && !skip.includes(key)) rest[key] = value;
    }
    return rest;
  }

  function inlineFacts(fields) {
    const parts = Object.entries(fields)
      .filter(([, v]) => v === null || ["string", "number", "boolean"].includes(typeof v))
      .map(([k, v]) => k + ": " + short(v === null ? "null" : v, 80));
    return parts.join(" · ");
  }

  // What one line says, readably, with the full detail one click away.
  function describe(stream, event) {
    const kind = event.corrupt ? "corrupt line" : (event.type || event.stage || "line");
    const body = el("div", { class: "body" });
    if (event.corrupt) {
      body.append(el("div", { text: event.partial ? "Half-written line (no newline yet):" : "This line is not a JSON object:" }),
        el("pre", { class: "json", text: event.raw }));
      return { kind, body };
    }
    if (event.truncated) {
      body.append(el("div", { class: "muted", text: "Line cut at write time (" + event.original_bytes + " bytes)." }), collapsible("content", event.content));
      return { kind, body };
    }
    const text = event.text ?? event.message ?? event.content;
    if (kind === "tool_call") {
      const tool = event.tool || event.name || "tool";
      const input = event.input ?? event.arguments ?? event.params;
      body.append(el("div", {}, el("strong", { text: tool }), input !== undefined ? el("span", { class: "muted mono", text: "  " + short(input, 140) }) : null));
      if (input !== undefined) body.append(collapsible("input", input));
    } else if (kind === "tool_result") {
      const output = event.output ?? event.result ?? event.content;
      body.append(el("div", { class: "mono", text: short(output ?? "", 200) }));
      if (output !== undefined) body.append(collapsible("output", output));
    } else if (typeof text === "string" && text.length) {
      body.append(el("div", { class: "text", text }));
    } else if (typeof event.error === "string") {
      body.append(el("div", { class: "text", text: event.error }));
    } else {
      const facts = inlineFacts(extras(event, []));
      if (facts) body.append(el("div", { class: "mono", text: facts }));
    }
    // The full line, when the summary above does not already say everything.
    const rest = extras(event, []);
    const complete = Object.values(rest).every(v => v === null || typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= 80));
    if (Object.keys(rest).length && !complete && kind !== "tool_call" && kind !== "tool_result") body.append(collapsible("details", rest));
    return { kind, body };
  }

  function sinceLabel(ms) {
    if (ms === null) return "";
    return "+" + duration(ms);
  }

  function renderEntry(entry, previous) {
    const { kind, body } = describe(entry.stream, entry.event);
    const gap = previous && entry.ts && previous.ts ? new Date(entry.ts) - new Date(previous.ts) : null;
    const classes = ["entry", entry.stream, kind.replace(/\W/g, "_")];
    if (isError(entry.event, kind)) classes.push("error");
    if (entry.event.corrupt) classes.push("corrupt");
    if (hiddenStreams.has(entry.stream)) classes.push("hidden");
    const time = entry.ts ? new Date(entry.ts) : null;
    const node = el("div", { class: classes.join(" "), "data-stream": entry.stream, "data-kind": kind, "data-line": entry.line },
      el("div", { class: "ts", title: entry.ts || "", text: time ? time.toLocaleTimeString(undefined, { hour12: false }) + "." + String(time.getMilliseconds()).padStart(3, "0") : "–" }),
      el("div", { class: "delta" + (gap !== null && gap > 10000 ? " slow" : ""), title: "time since the previous line", text: sinceLabel(gap) }),
      el("div", { class: "who" }, el("span", { class: "kind", text: kind }), el("span", { class: "muted", text: entry.event.service || STREAMS.find(s => s[0] === entry.stream)[1] })),
      body);
    entry.node = node;
    return node;
  }

  function makeEntry(stream, line, event) {
    const ts = typeof event.ts === "string" ? event.ts : (lastTsByStream[stream] || "");
    lastTsByStream[stream] = ts;
    return { ts, stream, line, event };
  }

  function renderAll() {
    entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    timeline.replaceChildren();
    let index = 0;
    const batch = () => {
      const fragment = document.createDocumentFragment();
      const stop = Math.min(entries.length, index + 1500);
      for (; index < stop; index++) fragment.append(renderEntry(entries[index], entries[index - 1]));
      timeline.append(fragment);
      if (index < entries.length) setTimeout(batch, 0);
    };
    batch();
    updateCounts();
  }

  // A live line goes where its time says, nearly always at the end.
  function insertLive(entry) {
    let position = entries.length;
    while (position > 0 && entries[position - 1].ts > entry.ts) position--;
    entries.splice(position, 0, entry);
    const node = renderEntry(entry, entries[position - 1]);
    node.classList.add("fresh");
    const next = entries[position + 1];
    if (next && next.node && next.node.parentNode) timeline.insertBefore(node, next.node); else timeline.append(node);
    if (next && next.node) {
      const redrawn = renderEntry(next, entry);
      next.node.replaceWith(redrawn);
    }
    updateCounts();
    if (follow.checked) node.scrollIntoView({ block: "nearest" });
  }

  function updateCounts() {
    const errors = entries.filter(e => e.node && e.node.classList.contains("error")).length;
    document.getElementById("counts").textContent = entries.length + " lines" + (errors ? " · " + errors + " with errors" : "");
    document.getElementById("timeline-empty").classList.toggle("hidden", entries.length > 0);
    renderStages();
  }

  function fact(label, value, title) {
    return el("div", { class: "fact", title: title || "" }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }));
  }

  function renderSummary() {
    const task = detail.task || {};
    const metadata = detail.metadata && !detail.metadata.corrupt ? detail.metadata : {};
    const envelope = metadata.envelope || {};
    const result = detail.final_result && !detail.final_result.corrupt ? detail.final_result : null;
    const status = metadata.status || task.status || "queued";
    document.title = (envelope.command || task.command || "task") + " · " + taskId;
    document.getElementById("task-id").textContent = taskId;
    document.getElementById("title").textContent = "@agent " + (envelope.command || task.command || "?") + " · " + (task.scope || envelope.conversation_key || task.provider || "");
    document.getElementById("instruction").textContent = envelope.instruction || task.instruction || "";
    const sourceLine = document.getElementById("source");
    sourceLine.replaceChildren(
      el("span", { class: "chip", text: envelope.provider || task.provider || "?" }), " ",
      (envelope.event || task.event || ""), " · asked by ", (task.actor || (envelope.actor && envelope.actor.login) || "unknown"),
      ...(envelope.source && envelope.source.url ? [" · ", el("a", { href: envelope.source.url, rel: "noreferrer noopener", target: "_blank", text: "open in " + (envelope.provider || "provider") })] : []));
    document.getElementById("status").replaceChildren(badge(status));
    const facts = [
      fact("Created", dateTime(metadata.created_at || task.created_at), metadata.created_at),
      fact("Updated", dateTime(metadata.updated_at || task.updated_at), metadata.updated_at),
      fact("Duration", duration(result ? result.duration_ms : task.duration_ms)),
      fact("Cost", cost(result ? result.cost_usd : task.cost_usd)),
      fact("Tokens in / out", tokens(result ? result.input_tokens : task.input_tokens) + " / " + tokens(result ? result.output_tokens : task.output_tokens)),
      fact("Run · attempt", (metadata.run ?? task.run ?? "–") + " · " + (metadata.attempt ?? task.attempt ?? "–")),
      // metadata.json names the worker only while one holds the task; afterwards the log says who ran it.
      fact("Worker", metadata.worker || task.worker || (lastOf("queue_flow", ev => ev.type === "worker_assigned") || { event: {} }).event.worker || "–"),
      fact("Model", (result && (result.model || result.runner)) || task.model || "–"),
    ];
    document.getElementById("facts").replaceChildren(...facts);
    const panel = document.getElementById("result-panel");
    if (result) {
      panel.classList.remove("hidden");
      const parts = [];
      if (result.result_text) parts.push(el("div", { class: "result-box", text: result.result_text }));
      if (result.error) parts.push(el("div", { class: "result-box failed", text: result.error }));
      if (result.changes) parts.push(el("div", { class: "muted", text: result.changes.diff_stat }), collapsible("changed files", result.changes.changed_files));
      if (result.links && result.links.length) parts.push(el("div", {}, ...result.links.map(link => el("div", {}, el("a", { href: link, rel: "noreferrer noopener", target: "_blank", text: link })))));
      parts.push(collapsible("06-final-result.json", result));
      document.getElementById("result").replaceChildren(...parts);
    } else if (metadata.last_error) {
      panel.classList.remove("hidden");
      document.getElementById("result").replaceChildren(el("div", { class: "result-box failed", text: metadata.last_error }));
    }
    renderStages();
    return status;
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function firstOf(stream, predicate) {
    return entries.find(e => e.stream === stream && (!predicate || predicate(e.event)));
  }

  function lastOf(stream, predicate) {
    return entries.findLast(e => e.stream === stream && (!predicate || predicate(e.event)));
  }

  function renderStages() {
    if (!detail) return;
    const result = detail.final_result && !detail.final_result.corrupt ? detail.final_result : null;
    const serviceCalls = entries.filter(e => e.stream === "microservices_flow");
    const agentStart = firstOf("queue_flow", ev => ev.type === "dequeued" || ev.type === "worker_assigned") || firstOf("agent_output");
    const stages = [
      { key: "webhook", name: "Webhook", at: (firstOf("webhook_flow") || {}).ts, note: plural(counts.webhook_flow, "step") },
      { key: "queue", name: "Queue", at: (firstOf("queue_flow", ev => ev.type === "queued") || firstOf("queue_flow") || {}).ts, note: plural(counts.queue_flow, "event") },
      { key: "agent", name: "Agent", at: (agentStart || {}).ts, note: plural(counts.agent_output, "message") },
      { key: "services", name: "Provider calls", at: (serviceCalls[0] || {}).ts, note: plural(serviceCalls.filter(e => /request|call/.test(e.event.type || "")).length, "call") },
      { key: "result", name: "Result", at: result ? result.finished_at : null, note: result ? (result.success ? "succeeded" : result.status) : "pending" },
    ];
    const nodes = [];
    let previous = null;
    for (const stage of stages) {
      if (nodes.length) {
        const gap = previous && stage.at ? new Date(stage.at) - new Date(previous) : null;
        nodes.push(el("div", { class: "stage-gap", text: gap === null ? "" : duration(Math.max(0, gap)) }));
      }
      const failed = stage.key === "result" && result && !result.success;
      nodes.push(el("div", { class: "stage " + stage.key + (stage.at ? "" : " missing") + (failed ? " failed" : ""), "data-stage": stage.key },
        el("div", { class: "name", text: stage.name }),
        el("div", { class: "when", text: stage.at ? dateTime(stage.at) : "not yet" }),
        el("div", { class: "when", text: stage.note })));
      if (stage.at) previous = stage.at;
    }
    document.getElementById("stages").replaceChildren(...nodes);
  }

  function setLive(on, label) {
    liveBadge.classList.toggle("off", !on);
    liveBadge.textContent = label;
  }

  async function refreshDetail() {
    try {
      detail = await api("/api/v1/tasks/" + encodeURIComponent(taskId));
      return renderSummary();
    } catch (error) {
      showError("Could not load the task: " + error.message);
      return null;
    }
  }

  function followLive() {
    const after = STREAMS.map(([name]) => counts[name]).join(".");
    source = new EventSource("/api/v1/tasks/" + encodeURIComponent(taskId) + "/stream?after=" + after);
    setLive(true, "live");
    source.addEventListener("line", message => {
      const data = JSON.parse(message.data);
      if (data.line <= counts[data.stream]) return;
      counts[data.stream] = data.line;
      insertLive(makeEntry(data.stream, data.line, data.event));
    });
    source.addEventListener("status", message => {
      const data = JSON.parse(message.data);
      document.getElementById("status").replaceChildren(badge(data.status));
      refreshDetail();
    });
    source.addEventListener("end", message => {
      const data = JSON.parse(message.data);
      source.close();
      setLive(false, data.status.replace("_", "-"));
      refreshDetail();
    });
    source.onerror = () => setLive(false, "reconnecting…");
    source.onopen = () => setLive(true, "live");
  }

  function buildToggles() {
    const box = document.getElementById("toggles");
    for (const [name, label] of STREAMS) {
      const input = el("input", { type: "checkbox", checked: true, "data-stream": name, onchange: () => {
        if (input.checked) hiddenStreams.delete(name); else hiddenStreams.add(name);
        timeline.querySelectorAll(".entry[data-stream=" + name + "]").forEach(n => n.classList.toggle("hidden", !input.checked));
      } });
      box.append(el("label", {}, input, label));
    }
    document.getElementById("expand").addEventListener("click", event => {
      const open = event.target.textContent === "Expand all";
      timeline.querySelectorAll("details").forEach(d => { d.open = open; });
      event.target.textContent = open ? "Collapse all" : "Expand all";
    });
  }

  async function start() {
    buildToggles();
    let combined;
    try {
      combined = await api("/api/v1/tasks/" + encodeURIComponent(taskId) + "/logs");
    } catch (error) {
      document.getElementById("title").textContent = error.status === 404 ? "No such task" : "Could not load the task";
      showError(error.message);
      return;
    }
    for (const [name] of STREAMS) {
      const lines = combined.streams[name] || [];
      lines.forEach((event, i) => entries.push(makeEntry(name, i + 1, event)));
      counts[name] = lines.length;
    }
    detail = { task: null, metadata: combined.metadata, input: combined.input, final_result: combined.final_result };
    renderSummary();
    renderAll();
    // Decided on what the combined log said, so nothing written after it is missed.
    const status = combined.metadata && !combined.metadata.corrupt ? combined.metadata.status : null;
    refreshDetail();
    if (!isTerminal(status)) followLive();
    else setLive(false, status.replace("_", "-"));
  }

  start();
})();

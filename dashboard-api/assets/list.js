// The task list: filters kept in the URL, keyset pages, and the first page refreshed every few seconds.
"use strict";

(() => {
  const { el, api, badge, duration, cost, ago, markNav } = Dash;
  const form = document.getElementById("filters");
  const rows = document.getElementById("rows");
  const more = document.getElementById("more");
  const empty = document.getElementById("empty");
  const errorBox = document.getElementById("error");
  const live = document.getElementById("live");
  const REFRESH_MS = 3000;
  let cursor = null;
  let generation = 0;
  markNav("tasks");

  function filterParams() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (!value) continue;
      if (name === "since" || name === "until") params.set(name, new Date(value).toISOString());
      else params.set(name, value.trim());
    }
    return params;
  }

  function loadFiltersFromUrl() {
    const params = new URLSearchParams(location.search);
    for (const field of form.elements) {
      if (!field.name || !params.has(field.name)) continue;
      let value = params.get(field.name);
      if (field.type === "datetime-local") {
        const d = new Date(value);
        if (!isNaN(d)) value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      }
      field.value = value;
    }
  }

  function row(task) {
    const where = task.scope || task.conversation_key;
    const tr = el("tr", { "data-task-id": task.task_id, "data-status": task.status, onclick: () => { location.href = "/tasks/" + task.task_id; } },
      el("td", {}, badge(task.status)),
      el("td", {}, el("a", { href: "/tasks/" + task.task_id, class: "mono", title: task.task_id, onclick: e => e.stopPropagation() }, task.task_id.slice(5, 18) + "…")),
      el("td", {}, el("span", { class: "chip", text: task.provider })),
      el("td", { text: task.command }),
      el("td", { class: "mono", text: where || "–" }),
      el("td", { text: task.actor || "–" }),
      el("td", { class: "instruction", title: task.instruction, text: task.instruction || "–" }),
      el("td", { title: task.created_at, text: ago(task.created_at) }),
      el("td", { class: "num", text: duration(task.duration_ms) }),
      el("td", { class: "num", text: cost(task.cost_usd) }));
    return tr;
  }

  function showError(error) {
    errorBox.textContent = "Could not load tasks: " + error.message;
    errorBox.classList.remove("hidden");
  }

  async function load(reset) {
    const mine = reset ? ++generation : generation;
    const params = filterParams();
    if (reset) history.replaceState(null, "", params.toString() ? "?" + params : location.pathname);
    if (!reset && cursor) params.set("cursor", cursor);
    params.set("limit", "50");
    try {
      const page = await api("/api/v1/tasks?" + params);
      if (mine !== generation) return;
      errorBox.classList.add("hidden");
      if (reset) rows.replaceChildren();
      page.tasks.forEach(task => rows.append(row(task)));
      cursor = page.next_cursor || null;
      more.classList.toggle("hidden", !cursor);
      empty.classList.toggle("hidden", rows.children.length > 0);
    } catch (error) {
      showError(error);
    }
  }

  // Newer tasks appear at the top; rows whose status changed are redrawn in place.
  async function refresh() {
    if (document.hidden) return;
    const mine = generation;
    const params = filterParams();
    params.set("limit", "50");
    try {
      const page = await api("/api/v1/tasks?" + params);
      if (mine !== generation) return;
      live.classList.remove("off");
      errorBox.classList.add("hidden");
      const shown = new Map([...rows.children].map(tr => [tr.dataset.taskId, tr]));
      const newest = rows.firstElementChild ? rows.firstElementChild.dataset.taskId : "";
      const fresh = [];
      for (const task of page.tasks) {
        const existing = shown.get(task.task_id);
        if (existing) {
          if (existing.dataset.status !== task.status || existing.children[8].textContent !== duration(task.duration_ms)) {
            const replacement = row(task);
            replacement.classList.add("fresh");
            existing.replaceWith(replacement);
          }
        } else if (task.task_id > newest) {
          fresh.push(task);
        }
      }
      fresh.reverse().forEach(task => { const tr = row(task); tr.classList.add("fresh"); rows.prepend(tr); });
      empty.classList.toggle("hidden", rows.children.length > 0);
    } catch (error) {
      live.classList.add("off");
    }
  }

  let typing;
  form.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => { cursor = null; load(true); }, 250); });
  form.addEventListener("submit", e => { e.preventDefault(); cursor = null; load(true); });
  document.getElementById("clear").addEventListener("click", () => { form.reset(); cursor = null; load(true); });
  more.addEventListener("click", () => load(false));
  // "/" jumps to the search box, as on most sites.
  document.addEventListener("keydown", event => {
    if (event.key === "/" && !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) {
      event.preventDefault();
      form.elements.q.focus();
    }
  });
  loadFiltersFromUrl();
  load(true);
  setInterval(refresh, REFRESH_MS);
})();

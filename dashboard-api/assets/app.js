// Shared helpers of the dashboard pages. Everything is fetched from this origin only.
"use strict";

const Dash = (() => {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, options || {}));
    if (response.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("not signed in");
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.message ? body.message : response.status + " " + response.statusText;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  const STATUSES = ["queued", "running", "succeeded", "failed", "dead_lettered", "cancelled"];
  const STATUS_LABELS = { dead_lettered: "dead-lettered" };

  function badge(status) {
    return el("span", { class: "badge " + status, "data-status": status, text: STATUS_LABELS[status] || status });
  }

  function isTerminal(status) {
    return ["succeeded", "failed", "dead_lettered", "cancelled"].includes(status);
  }

  function duration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "–";
    if (ms < 1000) return Math.round(ms) + " ms";
    const s = ms / 1000;
    if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + " s";
    const m = Math.floor(s / 60), rs = Math.round(s % 60);
    if (m < 60) return m + "m " + String(rs).padStart(2, "0") + "s";
    const h = Math.floor(m / 60);
    return h + "h " + String(m % 60).padStart(2, "0") + "m";
  }

  function cost(usd) {
    if (usd === null || usd === undefined) return "–";
    return "$" + (usd < 1 ? usd.toFixed(4) : usd.toFixed(2));
  }

  function tokens(n) {
    if (n === null || n === undefined) return "–";
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(0) + "k";
    return String(n);
  }

  function ago(iso) {
    const then = new Date(iso).getTime();
    const s = Math.round((Date.now() - then) / 1000);
    if (s < 5) return "just now";
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return new Date(iso).toLocaleDateString(undefined, { month: "short", day: "numeric", year: "numeric" });
  }

  function dateTime(iso) {
    if (!iso) return "–";
    return new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function markNav(name) {
    document.querySelectorAll("header.top nav a").forEach(a => a.classList.toggle("active", a.dataset.nav === name));
  }

  return { el, api, badge, isTerminal, duration, cost, tokens, ago, dateTime, markNav, STATUSES, STATUS_LABELS };
})();

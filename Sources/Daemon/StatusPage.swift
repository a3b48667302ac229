import Foundation

/// `GET /` on the health listener: one self-contained HTML page for a person, like DMS's task
/// console. The task (its state in DMS's words, migration type, slot, confirmed LSN, lag, last
/// cycle), the full load's progress while it runs, charts (inline SVG) of the recent cycles' lag
/// and rows, and the table statistics, with tables in `error` standing out with the
/// `replicatord reload-table` command to run.
///
/// Nothing is fetched from elsewhere (no scripts, fonts or styles from the network): the page
/// carries its style and script, and the figures as JSON (``data(report:history:)``, the body of
/// `GET /status.json`, which the page fetches again every 5 s). It shows only what `/health`
/// shows, so no secret. Light and dark (`prefers-color-scheme`), and narrow screens: the table
/// scrolls sideways under a sticky first column.
public enum StatusPage {
    /// The body of `GET /status.json`: the `/health` report and the recent cycles.
    public struct Data: Codable, Sendable, Equatable {
        public var health: HealthReport
        public var history: [Point]

        /// One cycle of ``CycleHistory``, time in seconds since 1970.
        public struct Point: Codable, Sendable, Equatable {
            public var t: Double
            public var kind: String
            public var outcome: String
            public var rows: Int
            public var lag_bytes: Int64?
            public var lag_seconds: Double?
        }
    }

    /// The figures the page shows.
    public static func data(report: HealthReport, history: CycleHistory) -> Data {
        Data(
            health: report,
            history: history.samples.map {
                .init(
                    t: ($0.at.timeIntervalSince1970 * 1000).rounded() / 1000, kind: $0.kind, outcome: $0.outcome, rows: $0.rows,
                    lag_bytes: $0.lagBytes, lag_seconds: $0.lagSeconds.map { ($0 * 1000).rounded() / 1000 })
            })
    }

    /// `data` as compact JSON, as UTF-8 bytes (keys in no particular order: the page sorts what it
    /// shows). See ``encode(_:)`` in StatusPageJSON.swift.
    public static func jsonBytes(_ data: Data) -> [UInt8] { encode(data) }

    /// `data` as compact JSON.
    public static func json(_ data: Data) -> String { String(decoding: jsonBytes(data), as: UTF8.self) }

    /// The page with `data` inside (so it shows the figures before its first refresh), as UTF-8
    /// bytes: one pass over the JSON, no string searching (the page of 1,000 tables is 400 KB).
    public static func htmlBytes(_ data: Data) -> [UInt8] {
        let json = jsonBytes(data)
        var out: [UInt8] = []
        out.reserveCapacity(headBytes.count + json.count + json.count / 64 + tailBytes.count)
        out += headBytes
        // Inside <script>, "<" only ever occurs in JSON strings, where \u003c means the same: no
        // table name or message can end the script it is embedded in.
        for byte in json {
            if byte == UInt8(ascii: "<") { out += escapedLessThan } else { out.append(byte) }
        }
        out += tailBytes
        return out
    }

    /// The page with `data` inside, as a string.
    public static func html(_ data: Data) -> String { String(decoding: htmlBytes(data), as: UTF8.self) }

    private static let escapedLessThan = Array("\\u003c".utf8)
    private static let headBytes = Array(head.utf8)
    private static let tailBytes = Array(tail.utf8)

    private static let head = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>replicatord</title>
        <style>
        :root{--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#5c6670;--line:#d9dee3;--accent:#2563eb;--ok:#15803d;--warn:#b45309;--bad:#b91c1c;--badbg:#fde8e8;--bar:#e5e9ee;--grid:#e8ebef}
        @media (prefers-color-scheme:dark){:root{--bg:#0f1318;--card:#181e25;--fg:#e6e9ed;--muted:#98a2ad;--line:#2c343d;--accent:#60a5fa;--ok:#4ade80;--warn:#fbbf24;--bad:#f87171;--badbg:#3a1717;--bar:#2a323b;--grid:#252c34}}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
        header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.8rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
        header h1{font-size:1.15rem;margin:0}
        main{padding:1rem;max-width:1400px;margin:0 auto}
        .badge{display:inline-block;padding:.15rem .6rem;border-radius:999px;font-weight:600;font-size:.85rem;border:1px solid currentColor}
        .ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}.muted{color:var(--muted)}
        #updated{margin-left:auto;font-size:.8rem}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:.6rem;margin-bottom:1rem}
        .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem;min-width:0}
        .card .k{font-size:.75rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
        .card .v{font-size:1.05rem;font-weight:600;overflow-wrap:anywhere}
        .card .s{font-size:.8rem;color:var(--muted);overflow-wrap:anywhere}
        section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem;margin-bottom:1rem}
        section h2{font-size:1rem;margin:0 0 .6rem}
        .problems{border-color:var(--bad);background:var(--badbg)}
        .problems li{overflow-wrap:anywhere}
        .progress{height:10px;background:var(--bar);border-radius:5px;overflow:hidden;min-width:60px}
        .progress>div{height:100%;background:var(--accent)}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:.8rem}
        .chart h3{font-size:.85rem;margin:0 0 .3rem;font-weight:600}
        .chart svg{width:100%;height:auto;display:block}
        .chart svg text{fill:var(--muted);font-size:15px}
        .chart .gridline{stroke:var(--grid)}
        .chart .line{fill:none;stroke:var(--accent);stroke-width:1.8}
        .chart .barok{fill:var(--accent)}.chart .barfail{fill:var(--bad)}
        .tools{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:.5rem}
        .tools input{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);min-width:12rem}
        .scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{padding:.35rem .55rem;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
        th{font-size:.75rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em;position:sticky;top:0;background:var(--card)}
        th:first-child,td:first-child{text-align:left;position:sticky;left:0;background:var(--card)}
        td.l,th.l{text-align:left}
        td.lp,th.lp{text-align:left}td.lp{white-space:normal;min-width:13rem;font-size:.85em}
        table.noload .lp{display:none}
        td.err{white-space:normal;min-width:14rem;text-align:left;overflow-wrap:anywhere}
        tr.error td{background:var(--badbg)}
        tr.error td:first-child{box-shadow:inset 4px 0 0 var(--bad)}
        tr.fix td{background:var(--badbg);text-align:left;white-space:normal}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:.1rem .3rem;overflow-wrap:anywhere}
        .state{font-weight:600}
        @media (max-width:600px){main{padding:.5rem}header{padding:.6rem}.cards{grid-template-columns:1fr 1fr}.card .v{font-size:.95rem}}
        </style>
        </head>
        <body>
        <header><h1>replicatord</h1><span id="task" class="badge">…</span><span id="health" class="badge">…</span><span id="updated" class="muted"></span></header>
        <main>
        <noscript><p>This page draws itself with its own script; without it, read <a href="/health">/health</a>.</p></noscript>
        <section id="problems" class="problems" hidden><h2>Problems</h2><ul id="problem-list"></ul></section>
        <div class="cards" id="cards"></div>
        <section id="load" hidden><h2>Full load</h2><div id="load-body"></div></section>
        <section><h2>Recent cycles</h2><div class="charts" id="charts"></div></section>
        <section><h2>Table statistics</h2>
        <div class="tools"><input id="filter" type="search" placeholder="Filter tables" aria-label="Filter tables"><span id="counts" class="muted"></span></div>
        <div class="scroll"><table id="tables"><thead><tr><th>Table</th><th class="l">State</th><th>Full-load rows</th><th>Inserts</th><th>Updates</th><th>Deletes</th><th>Truncates</th><th>Files</th><th>Bytes</th><th class="l">Last change</th><th class="lp">Load progress</th><th class="l">Error</th></tr></thead><tbody></tbody></table></div>
        </section>
        </main>
        <script id="status-data" type="application/json">
        """#

    private static let tail = #"""
        </script>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        function el(tag, attrs, ...children) {
          const e = document.createElement(tag);
          for (const [k, v] of Object.entries(attrs || {})) { if (v !== undefined && v !== null) e.setAttribute(k, v); }
          for (const c of children) { if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c)); }
          return e;
        }
        const num = (n) => (n === undefined || n === null) ? "–" : Number(n).toLocaleString("en-US");
        function bytes(n) {
          if (n === undefined || n === null) return "–";
          const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0, v = Number(n);
          while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
          return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + u[i];
        }
        function dur(s) {
          if (s === undefined || s === null) return "–";
          s = Math.max(0, Math.round(Number(s)));
          if (s < 60) return s + " s";
          if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
          return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
        }
        function when(iso) {
          if (!iso) return "–";
          const d = new Date(iso);
          return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
        }
        function ago(iso) {
          if (!iso) return "";
          return dur((Date.now() - new Date(iso).getTime()) / 1000) + " ago";
        }
        function bar(percent) {
          const p = Math.max(0, Math.min(100, Number(percent || 0)));
          return el("div", { class: "progress", role: "progressbar", "aria-valuenow": p.toFixed(1), "aria-valuemin": "0", "aria-valuemax": "100" },
                    el("div", { style: "width:" + p.toFixed(1) + "%" }));
        }
        function card(k, v, s, cls) {
          return el("div", { class: "card", "data-card": k }, el("div", { class: "k" }, k), el("div", { class: "v " + (cls || "") }, v), s ? el("div", { class: "s" }, s) : null);
        }
        function chart(title, points, value, fmt, bars) {
          const W = 600, H = 190, L = 84, R = 8, T = 10, B = 26;
          const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
          svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
          svg.setAttribute("role", "img"); svg.setAttribute("aria-label", title);
          const add = (tag, attrs, text) => { const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
            for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; svg.append(e); return e; };
          const pts = points.filter((p) => value(p) !== null && value(p) !== undefined);
          const last = pts.length ? pts[pts.length - 1] : null;
          const box = el("div", { class: "chart", "data-chart": title }, el("h3", {}, title, last ? el("span", { class: "muted" }, " · last " + fmt(value(last))) : null));
          if (pts.length === 0) { box.append(el("div", { class: "muted" }, "no cycle yet")); return box; }
          const t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
          const max = Math.max(1e-9, ...pts.map(value));
          const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
          const y = (v) => T + (H - T - B) * (1 - v / max);
          for (const f of [0, 0.5, 1]) {
            add("line", { class: "gridline", x1: L, x2: W - R, y1: y(max * f), y2: y(max * f) });
            add("text", { x: L - 6, y: y(max * f) + 5, "text-anchor": "end" }, fmt(max * f));
          }
          // Hours and minutes, and seconds too when the cycles shown span less than ten minutes.
          const clock = (t) => new Date(t * 1000).toISOString().substring(11, t1 - t0 < 600 ? 19 : 16);
          add("text", { x: L, y: H - 4 }, clock(t0));
          add("text", { x: W - R, y: H - 4, "text-anchor": "end" }, clock(t1) + " UTC");
          if (bars) {
            const w = Math.max(1, (W - L - R) / Math.max(pts.length, 1) - 1);
            for (const p of pts) {
              const r = add("rect", { class: p.outcome === "success" ? "barok" : "barfail", x: Math.min(x(p.t), W - R - w), y: y(value(p)), width: w, height: Math.max(0.5, H - B - y(value(p))) });
              const tt = document.createElementNS("http://www.w3.org/2000/svg", "title"); tt.textContent = `${when(new Date(p.t * 1000).toISOString())}: ${fmt(value(p))} (${p.kind}, ${p.outcome})`; r.append(tt);
            }
          } else {
            add("polyline", { class: "line", points: pts.map((p) => x(p.t).toFixed(1) + "," + y(value(p)).toFixed(1)).join(" ") });
          }
          box.append(svg);
          return box;
        }
        const fields = ["full_load_rows", "inserts", "updates", "deletes", "truncates", "files_written", "bytes_written"];
        let current = null;
        function render(data) {
          current = data;
          const h = data.health;
          const task = $("task");
          task.textContent = h.task_status || h.phase;
          task.className = "badge " + (h.task_status === "Failed" ? "bad" : (h.status === "ok" ? "ok" : "warn"));
          const health = $("health");
          health.textContent = h.status === "ok" ? "healthy" : "unhealthy";
          health.className = "badge " + (h.status === "ok" ? "ok" : "bad");
          $("updated").textContent = "updated " + new Date().toISOString().substring(11, 19) + " UTC";
          const problems = h.problems || [];
          $("problems").hidden = problems.length === 0;
          $("problem-list").replaceChildren(...problems.map((p) => el("li", {}, p)));

          const c = h.last_cycle;
          const cards = [
            card("Task status", h.task_status || h.phase, "phase " + h.phase),
            card("Migration type", h.migration_type || "–"),
            card("Slot", h.slot),
            card("Confirmed LSN", h.confirmed_lsn || "–", h.server_wal_lsn ? "server WAL " + h.server_wal_lsn : ""),
            card("Lag", (h.lag_bytes === undefined ? "–" : bytes(h.lag_bytes)) + " / " + (h.lag_seconds === undefined ? "–" : h.lag_seconds.toFixed(1) + " s"),
                 h.retained_wal_bytes === undefined ? "" : "slot retains " + bytes(h.retained_wal_bytes) + " of WAL"),
            card("Last cycle", c ? c.kind + " " + c.outcome : "none yet",
                 c ? `${when(c.ended)} (${ago(c.ended)}), ${c.duration_seconds.toFixed(3)} s, ${num(c.files)} file(s), ${num(c.rows)} row(s)` : "",
                 c ? (c.outcome === "success" ? "ok" : "bad") : ""),
            card("Last success", h.last_success ? ago(h.last_success) : "none yet", h.last_success ? when(h.last_success) : "", ""),
            card("Running since", when(h.started_at), h.cycle_running_since ? "cycle running since " + when(h.cycle_running_since) : "between cycles"),
          ];
          if (h.last_error) cards.push(card("Last error", h.last_error.kind, `${when(h.last_error.at)}: ${h.last_error.message}`, "bad"));
          $("cards").replaceChildren(...cards);

          const f = h.full_load;
          $("load").hidden = !f;
          if (f) {
            $("load-body").replaceChildren(
              bar(f.percent),
              el("p", { id: "load-figures" },
                `${num(f.rows)} of ${f.estimated_rows === undefined ? "?" : "about " + num(f.estimated_rows)} rows` +
                (f.percent === undefined ? "" : ` (${f.percent.toFixed(1)} %)`) +
                `, ${num(f.rows_per_second)} rows/s, ETA ${f.eta_seconds === undefined ? "unknown" : dur(f.eta_seconds)}` +
                `, ${f.tables_loaded} of ${f.tables_total} tables loaded, started ${when(f.started)}`));
          }

          const hist = data.history || [];
          // A full load's rows would flatten every CDC bar: once there are CDC cycles, they alone are drawn.
          const cdc = hist.filter((p) => p.kind === "cdc");
          const loads = hist.filter((p) => p.kind !== "cdc" && p.outcome === "success");
          const rowsTitle = cdc.length && loads.length ? `Rows written per CDC cycle (full load: ${num(loads[loads.length - 1].rows)})` : "Rows written per cycle";
          $("charts").replaceChildren(
            chart("Lag, seconds", hist, (p) => p.lag_seconds, (v) => v.toFixed(v < 10 ? 1 : 0) + " s"),
            chart("Lag, bytes", hist, (p) => p.lag_bytes === undefined ? null : p.lag_bytes, bytes),
            chart(rowsTitle, cdc.length ? cdc : hist, (p) => p.rows, (v) => num(Math.round(v)), true));
          renderTables();
        }
        function renderTables() {
          const h = current.health;
          const names = Object.keys(h.tables).sort();
          const q = $("filter").value.trim().toLowerCase();
          const rows = [];
          let errors = 0, shown = 0, loading = 0;
          for (const name of names) {
            const t = h.tables[name];
            if (t.status === "error") errors++;
            if (q && !name.toLowerCase().includes(q) && !t.status.includes(q)) continue;
            shown++;
            const cls = t.status === "error" ? "error" : "";
            const stateCls = t.status === "error" ? "state bad" : (t.status === "loading" ? "state warn" : "state ok");
            const cells = [el("td", { "data-field": "table" }, name), el("td", { class: "l " + stateCls, "data-field": "status" }, t.status)];
            for (const k of fields) {
              cells.push(el("td", { "data-field": k, "data-value": String(t[k]) }, k === "bytes_written" ? bytes(t[k]) : num(t[k])));
            }
            cells.push(el("td", { class: "l", "data-field": "last_change_time", title: t.last_change_lsn ? "LSN " + t.last_change_lsn : null }, t.last_change_time ? when(t.last_change_time) : "–"));
            const p = t.progress;
            if (p || t.status === "loading") loading++;
            const about = p && p.estimated_rows !== undefined ? "~" + num(p.estimated_rows) + " rows" : "";
            cells.push(p && p.rows === 0 && p.rows_per_second === 0
                         ? el("td", { class: "lp muted", "data-field": "progress", "data-value": "0" }, "waiting" + (about ? ` (${about})` : ""))
                       : p ? el("td", { class: "lp", "data-field": "progress", "data-value": String(p.rows) },
                             bar(p.percent),
                             `${num(p.rows)}${p.estimated_rows === undefined ? "" : " / ~" + num(p.estimated_rows)}` +
                             (p.percent === undefined ? "" : ` (${p.percent.toFixed(1)} %)`) +
                             `, ${num(p.rows_per_second)} rows/s, ETA ${p.eta_seconds === undefined ? "unknown" : dur(p.eta_seconds)}`)
                         : el("td", { class: "lp muted", "data-field": "progress" }, t.status === "loading" ? "waiting" : ""));
            cells.push(el("td", { class: "err", "data-field": "error" }, t.error || ""));
            rows.push(el("tr", { class: cls, "data-table": name, "data-status": t.status }, ...cells));
            if (t.status === "error") {
              const cmd = `replicatord reload-table --config ${h.config_path || "/etc/replicatord/replicatord.toml"} ${name}`;
              rows.push(el("tr", { class: "fix", "data-fix": name }, el("td", { colspan: "12" }, "To load this table again while the others go on: ", el("code", { "data-command": name }, cmd))));
            }
          }
          $("tables").tBodies[0].replaceChildren(...rows);
          $("tables").classList.toggle("noload", loading === 0);
          $("counts").textContent = `${names.length} table(s)` + (shown !== names.length ? `, ${shown} shown` : "") + (errors ? `, ${errors} in error` : "");
          $("counts").className = errors ? "bad" : "muted";
        }
        $("filter").addEventListener("input", () => { if (current) renderTables(); });
        render(JSON.parse($("status-data").textContent));
        async function refresh() {
          try {
            const r = await fetch("status.json", { cache: "no-store" });
            render(await r.json());
          } catch (e) {
            $("health").textContent = "not answering"; $("health").className = "badge bad";
          }
        }
        setInterval(refresh, 5000);
        </script>
        </body>
        </html>
        """#
}

// PersonaPulse dashboard: fills the server-rendered shell from the JSON API (session cookie, GET only)
// and re-renders when a refresh makes a new persona version current. No inline scripts (CSP), and no
// innerHTML with data: every string from the API goes in through textContent.
(() => {
  "use strict";

  const root = document.getElementById("dashboard");
  if (!root) return;
  const POLL_MS = Number(root.dataset.pollMs) || 5000;
  const FUNNEL_URL = root.dataset.funnelUrl;
  const SIGN_IN_URL = root.dataset.signInUrl || "/dashboard/sign-in";

  // Read by the browser tests and handy in the console: what is on screen and why.
  const state = { versionId: undefined, renders: 0, loading: false, lastError: null };
  window.personaPulseDashboard = { state };
  const charts = [];

  // ---------- small DOM helpers ----------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "className") node.className = value;
      else if (name === "hidden") node.hidden = true;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const byId = (id) => document.getElementById(id);
  function replace(container, ...children) {
    container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
    container.removeAttribute("aria-busy");
  }
  const placeholder = (text) => el("p", { className: "placeholder", text });
  const percent = (x, digits = 1) =>
    x === null || x === undefined || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(digits)}%`;
  const number = (x) => (x === null || x === undefined ? "–" : Number(x).toLocaleString("en"));
  const humanLabel = (label) => String(label || "").replace(/_/g, " ");
  const slug = (s) => String(s).replace(/[^A-Za-z0-9_-]/g, "-");

  function dataTable(caption, headers, rows, className) {
    return el(
      "table",
      { className: className || "data-table" },
      el("caption", { text: caption }),
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        {},
        rows.map((row) =>
          el(
            "tr",
            {},
            row.map((cell, i) => (i === 0 ? el("th", { scope: "row", text: cell }) : el("td", { text: cell }))),
          ),
        ),
      ),
    );
  }

  // A chart is a figure: a canvas the screen reader skips in favour of its label, and the same data as
  // a table under a disclosure, for keyboard and screen-reader users alike.
  function chartFigure(id, title, summary, table) {
    const chart = el("div", { className: "chart", id, role: "img", "aria-label": `${title}. ${summary}` });
    const figure = el(
      "figure",
      { className: "chart-figure" },
      el("figcaption", { text: title }),
      chart,
      el("details", { className: "chart-table" }, el("summary", { text: "Show the data as a table" }), table),
    );
    return { figure, chart };
  }

  function mountChart(node, option) {
    if (!window.echarts) {
      replace(node, placeholder("The chart library did not load; the table below has the data."));
      return null;
    }
    const chart = window.echarts.init(node, null, { renderer: "canvas" });
    chart.setOption({ animation: false, textStyle: { color: "#1f2933" }, ...option });
    charts.push(chart);
    return chart;
  }

  function disposeCharts() {
    while (charts.length) charts.pop().dispose();
  }

  // ---------- data ----------
  async function getJSON(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) {
      // The key was revoked or the session ended: back to the sign-in form.
      window.location.assign(SIGN_IN_URL);
      throw new Error("signed out");
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { status: response.status, ok: response.ok, body };
  }

  function currentVersionOf(versions) {
    const list = (versions && versions.versions) || [];
    const current = list.find((v) => v.status === "current");
    return { current: current || null, list };
  }

  function previousVersionOf(current, list) {
    if (!current) return null;
    const older = list.filter((v) => v.seq < current.seq).sort((a, b) => b.seq - a.seq);
    return older[0] || null;
  }

  function groupBy(items, key) {
    const groups = new Map();
    for (const item of items || []) {
      const k = item[key];
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(item);
    }
    return groups;
  }

  // ---------- persona cards ----------
  function personaName(p) {
    return (p.human && p.human.display_name) || p.name || p.label || p.persona_id;
  }

  function trendText(persona, previous, previousId) {
    if (!previousId) return { text: "first version", className: "trend-flat" };
    const before = previous.get(persona.persona_id);
    if (!before) return { text: `new since ${previousId}`, className: "trend-new" };
    const delta = persona.size - before.size;
    const points = (persona.share - before.share) * 100;
    const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "■";
    const sign = delta > 0 ? "+" : "";
    const pSign = points > 0 ? "+" : "";
    return {
      text: `${arrow} ${sign}${delta} people (${pSign}${points.toFixed(1)} pts) vs ${previousId}`,
      className: delta > 0 ? "trend-up" : delta < 0 ? "trend-down" : "trend-flat",
    };
  }

  // The narrative card (personapulse.narratives.cards.PersonaCard.to_dict): sections of sentences,
  // each {text, cites}; strategy sentences may name the pain point they answer.
  const NARRATIVE_SECTIONS = [
    ["behaviours", "Behaviours"],
    ["journey", "Journey"],
    ["strategy", "Marketing strategy"],
  ];

  function narrativeBlock(card) {
    if (!card || typeof card !== "object") return null;
    const source = card.card && typeof card.card === "object" ? card.card : card;
    const sentences = (key) => (Array.isArray(source[key]) ? source[key] : []).filter((s) => s && (s.text || typeof s === "string"));
    const textOf = (s) => (typeof s === "string" ? s : s.text);
    const profile = sentences("profile");
    const parts = [];
    if (profile.length) parts.push(el("p", { className: "narrative", text: profile.map(textOf).join(" ") }));
    for (const [key, title] of NARRATIVE_SECTIONS) {
      const items = sentences(key);
      if (!items.length) continue;
      parts.push(
        el("h5", { text: title }),
        el(
          "ul",
          {},
          items.map((s) => el("li", {}, s.pain_point ? el("strong", { text: `${humanLabel(s.pain_point)}: ` }) : null, textOf(s))),
        ),
      );
    }
    if (!parts.length) {
      for (const key of ["narrative", "summary", "text"]) {
        if (typeof source[key] === "string" && source[key].trim()) {
          parts.push(el("p", { className: "narrative", text: source[key].trim() }));
          break;
        }
      }
    }
    if (!parts.length) return null;
    if (source.backend) parts.push(el("p", { className: "hint", text: `Written by ${source.backend}.` }));
    return el("div", { className: "narrative-block" }, parts);
  }

  function personaCard(persona, ctx) {
    const profile = persona.profile || {};
    const name = personaName(persona);
    const titleId = `persona-${slug(persona.persona_id)}-title`;
    const negative = persona.is_negative || (profile.negative && profile.negative.flag);
    const trend = trendText(persona, ctx.previousPersonas, ctx.previousId);
    const pains = (ctx.painPoints.get(persona.persona_id) || []).filter((p) => p.kind === "pain_point");
    const motivations = (ctx.painPoints.get(persona.persona_id) || []).filter((p) => p.kind === "motivation");
    const narrative = narrativeBlock(ctx.cards.get(persona.persona_id));
    const shortlist = profile.interview_shortlist || [];
    const badges = el("p", { className: "badges" });
    if (negative) badges.append(el("span", { className: "badge badge-negative", text: "Negative persona" }));
    badges.append(
      ctx.reliable
        ? el("span", { className: "badge badge-ok", text: "Passed the reliability gate" })
        : el("span", { className: "badge badge-warn", text: "Not reliable" }),
    );

    return el(
      "article",
      {
        className: `card${negative ? " card-negative" : ""}`,
        "aria-labelledby": titleId,
        "data-persona-id": persona.persona_id,
        "data-size": persona.size,
      },
      el("h3", { id: titleId, text: name }),
      badges,
      el(
        "dl",
        { className: "stats" },
        el("div", {}, el("dt", { text: "People" }), el("dd", { className: "persona-size", text: number(persona.size) })),
        el("div", {}, el("dt", { text: "Share" }), el("dd", { className: "persona-share", text: percent(persona.share) })),
        el("div", {}, el("dt", { text: "Converts" }), el("dd", { text: percent(profile.conversion, 0) })),
        el(
          "div",
          {},
          el("dt", { text: "Revenue share" }),
          el("dd", { text: percent(profile.revenue && profile.revenue.share_of_total, 0) }),
        ),
      ),
      el("p", { className: `trend ${trend.className}`, text: trend.text }),
      negative && profile.negative && profile.negative.reasons && profile.negative.reasons.length
        ? el("p", { className: "negative-reasons", text: `Why negative: ${profile.negative.reasons.join("; ")}` })
        : null,
      el("h4", { text: "Distinguishing traits" }),
      (profile.traits || []).length
        ? el("ul", { className: "traits" }, (profile.traits || []).map((t) => el("li", { text: t.text })))
        : placeholder("No trait stands out."),
      el("h4", { text: "Pain points" }),
      pains.length
        ? el(
            "ul",
            { className: "pains" },
            pains.slice(0, 3).map((p) =>
              el(
                "li",
                {},
                el("strong", { text: humanLabel(p.label) }),
                ` — ${number(p.count)} mentions (${percent(p.share, 0)})`,
                p.examples && p.examples[0] ? el("q", { text: p.examples[0] }) : null,
              ),
            ),
          )
        : placeholder("No pain points mentioned."),
      motivations.length
        ? el(
            "p",
            { className: "motivations" },
            "Motivated by: ",
            motivations.slice(0, 3).map((m) => humanLabel(m.label)).join(", "),
          )
        : null,
      el("h4", { text: "Narrative" }),
      narrative
        ? narrative
        : el("p", { className: "placeholder narrative-missing", text: "Narrative not available yet." }),
      el(
        "details",
        { className: "shortlist" },
        el("summary", { text: `Interview shortlist (${shortlist.length})` }),
        shortlist.length
          ? el(
              "ol",
              {},
              shortlist.map((s) =>
                el("li", {}, el("code", { text: s.person_id }), ` — ${percent(s.probability, 0)} fit`),
              ),
            )
          : placeholder("Nobody shortlisted."),
      ),
    );
  }

  function renderGate(version) {
    const banner = byId("gate-banner");
    const gate = (version && version.gate) || {};
    if (!version || version.reliable) {
      banner.hidden = true;
      banner.replaceChildren();
      return;
    }
    const reasons = gate.reasons || [];
    banner.className = "alert alert-warn";
    banner.setAttribute("role", "alert");
    banner.replaceChildren(
      el("strong", { text: `Version ${version.version_id} did not pass the reliability gate. ` }),
      reasons.length ? el("ul", {}, reasons.map((r) => el("li", { text: r }))) : "No reason was recorded.",
    );
    banner.hidden = false;
  }

  // ---------- journeys ----------
  function sankeyFor(persona, transitions) {
    const name = personaName(persona);
    const nodes = new Map();
    const links = [];
    const firstStep = Math.min(...transitions.map((t) => t.step_number));
    for (const t of transitions) {
      // Sankey nodes must be unique per step, or a page visited twice would make a cycle; each step
      // gets its own column so the picture reads left to right in session order.
      const source = `${t.step_number}. ${t.source}`;
      const target = `${t.step_number + 1}. ${t.target}`;
      nodes.set(source, { name: source, depth: t.step_number - firstStep });
      nodes.set(target, { name: target, depth: t.step_number + 1 - firstStep });
      links.push({ source, target, value: t.count });
    }
    const top = transitions.slice().sort((a, b) => b.count - a.count)[0];
    const summary = top
      ? `${transitions.length} transitions; the busiest is step ${top.step_number}, ${top.source} to ${top.target}, ${top.count} times.`
      : "No transitions.";
    const table = dataTable(
      `Journey transitions of ${name}`,
      ["Step", "From", "To", "Times", "People"],
      transitions.map((t) => [String(t.step_number), t.source, t.target, number(t.count), number(t.users)]),
    );
    const { figure, chart } = chartFigure(`sankey-${slug(persona.persona_id)}`, `Journeys of ${name}`, summary, table);
    figure.dataset.personaId = persona.persona_id;
    figure.dataset.links = String(links.length);
    return {
      figure,
      mount: () =>
        links.length
          ? mountChart(chart, {
              tooltip: { trigger: "item" },
              series: [
                {
                  type: "sankey",
                  data: Array.from(nodes.values()),
                  links,
                  nodeAlign: "left",
                  left: 8,
                  right: 150,
                  emphasis: { focus: "adjacency" },
                  lineStyle: { color: "gradient", curveness: 0.5, opacity: 0.35 },
                  label: { color: "#1f2933", fontSize: 11 },
                },
              ],
            })
          : replace(chart, placeholder("No journeys recorded for this persona.")),
    };
  }

  function renderJourneys(personas, journeys) {
    const container = byId("journeys");
    if (!journeys.ok) {
      replace(container, placeholder(`Journeys are not available (HTTP ${journeys.status}).`));
      return [];
    }
    const byPersona = groupBy(journeys.body.transitions, "persona_id");
    const parts = personas.map((p) => sankeyFor(p, byPersona.get(p.persona_id) || []));
    replace(container, parts.map((p) => p.figure));
    return parts;
  }

  // ---------- funnel ----------
  function renderFunnel(personas, funnel) {
    const container = byId("funnel");
    if (!funnel.ok) {
      replace(container, placeholder(`The funnel is not available (HTTP ${funnel.status}).`));
      return [];
    }
    const data = funnel.body;
    const names = new Map(personas.map((p) => [p.persona_id, personaName(p)]));
    const stepNames = data.step_names || data.steps.map((s) => s.name);
    const overallTable = dataTable(
      "Everyone: people reaching each step",
      ["Step", "People", "Dropped", "From previous", "From first"],
      data.steps.map((s) => [
        `${s.step}. ${s.name}`,
        number(s.count),
        number(s.dropoff),
        percent(s.conversion_from_previous),
        percent(s.conversion_from_first),
      ]),
    );
    const last = data.steps[data.steps.length - 1];
    const overall = chartFigure(
      "funnel-overall",
      "Funnel, everyone",
      `${number(data.persons_entered)} people entered; ${percent(last && last.conversion_from_first)} reached ${last && last.name}.`,
      overallTable,
    );
    const breakdown = Object.entries(data.breakdown || {});
    const byPersonaTable = dataTable(
      "People reaching each step by persona (dropped since the previous step in brackets)",
      ["Persona", ...stepNames],
      breakdown.map(([id, steps]) => [
        names.get(id) || id,
        ...steps.map((s) => (s.step === 1 ? number(s.count) : `${number(s.count)} (−${number(s.dropoff)})`)),
      ]),
    );
    const worst = breakdown
      .map(([id, steps]) => [id, steps[steps.length - 1].conversion_from_first])
      .sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0))[0];
    const perPersona = chartFigure(
      "funnel-personas",
      "Conversion from the first step, by persona",
      worst
        ? `${breakdown.length} personas; the lowest end-to-end conversion is ${names.get(worst[0]) || worst[0]} at ${percent(worst[1])}.`
        : "No breakdown.",
      byPersonaTable,
    );
    replace(container, el("div", { className: "funnel-grid" }, overall.figure, perPersona.figure));
    return [
      {
        mount: () =>
          mountChart(overall.chart, {
            tooltip: { trigger: "item", formatter: "{b}: {c} people" },
            series: [
              {
                type: "funnel",
                sort: "none",
                left: "4%",
                width: "56%",
                minSize: "8%",
                gap: 2,
                // Outside the shapes in dark ink: readable whatever the fill colour.
                label: { position: "right", color: "#1f2933", fontSize: 12, formatter: "{b}: {c} people" },
                labelLine: { show: true },
                data: data.steps.map((s) => ({ name: s.name, value: s.count })),
              },
            ],
          }),
      },
      {
        mount: () =>
          mountChart(perPersona.chart, {
            tooltip: { trigger: "axis", valueFormatter: (v) => `${v}%` },
            legend: { type: "scroll", bottom: 0 },
            grid: { left: 48, right: 16, top: 16, bottom: 56 },
            xAxis: { type: "category", data: stepNames, axisLabel: { interval: 0, fontSize: 11 } },
            yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
            series: breakdown.map(([id, steps]) => ({
              type: "bar",
              name: names.get(id) || id,
              data: steps.map((s) => Math.round((s.conversion_from_first || 0) * 1000) / 10),
            })),
          }),
      },
    ];
  }

  // ---------- shifts, recommendations, data quality ----------
  function itemText(item) {
    if (typeof item === "string") return item;
    for (const key of ["message", "text", "summary", "title", "description", "recommendation", "action"]) {
      if (typeof item[key] === "string" && item[key].trim()) return item[key];
    }
    return Object.entries(item)
      .filter(([, v]) => typeof v !== "object")
      .map(([k, v]) => `${humanLabel(k)}: ${v}`)
      .join(", ");
  }

  function itemTime(item) {
    if (!item || typeof item !== "object") return null;
    for (const key of ["at", "created_at", "detected_at", "timestamp", "created_ms", "detected_ms"]) {
      const v = item[key];
      if (v === null || v === undefined) continue;
      const date = typeof v === "number" ? new Date(v) : new Date(String(v));
      if (!Number.isNaN(date.getTime())) return date;
    }
    return null;
  }

  function listFrom(body, keys) {
    if (Array.isArray(body)) return body;
    for (const key of keys) if (body && Array.isArray(body[key])) return body[key];
    return [];
  }

  function renderShifts(response, names) {
    const container = byId("shifts");
    if (!response.ok) {
      replace(container, placeholder(`Shift tracking is not available yet (HTTP ${response.status}).`));
      return;
    }
    const items = listFrom(response.body, ["shifts", "alerts", "events", "items"]);
    if (!items.length) {
      replace(container, placeholder("No persona shifts or alerts."));
      return;
    }
    const sorted = items.slice().sort((a, b) => (itemTime(b)?.getTime() || 0) - (itemTime(a)?.getTime() || 0));
    replace(
      container,
      el(
        "ol",
        { className: "timeline" },
        sorted.map((item) => {
          const when = itemTime(item);
          const persona = item && item.persona_id ? names.get(item.persona_id) || item.persona_id : null;
          const severity = item && (item.severity || item.level || item.kind || item.type);
          return el(
            "li",
            { className: `timeline-item${severity ? ` severity-${slug(severity)}` : ""}` },
            when ? el("time", { datetime: when.toISOString(), text: when.toLocaleString() }) : null,
            severity ? el("span", { className: "badge", text: humanLabel(severity) }) : null,
            persona ? el("strong", { text: `${persona}: ` }) : null,
            itemText(item),
          );
        }),
      ),
    );
  }

  function renderRecommendations(response, names) {
    const container = byId("recommendations");
    if (!response.ok) {
      replace(container, placeholder(`Recommendations are not available yet (HTTP ${response.status}).`));
      return;
    }
    const items = listFrom(response.body, ["recommendations", "items"]);
    if (!items.length) {
      replace(container, placeholder("No recommendations right now."));
      return;
    }
    replace(
      container,
      el(
        "ul",
        { className: "recommendations" },
        items.map((item) => {
          if (!item || typeof item !== "object") return el("li", { text: String(item) });
          const persona = item.persona_name || (item.persona_id ? names.get(item.persona_id) || item.persona_id : null);
          const title = item.title || itemText(item);
          return el(
            "li",
            { className: "recommendation" },
            item.priority !== undefined && item.priority !== null
              ? el("span", { className: "badge", text: `priority ${item.priority}` })
              : null,
            persona ? el("span", { className: "rec-persona", text: `${persona}: ` }) : null,
            el("strong", { text: title }),
            item.action && item.action !== title ? el("p", { text: item.action }) : null,
            item.rationale ? el("p", { className: "hint", text: item.rationale }) : null,
          );
        }),
      ),
    );
  }

  function renderQuality(response) {
    const container = byId("quality");
    if (!response.ok) {
      replace(container, placeholder(`The data-quality report is not available (HTTP ${response.status}).`));
      return;
    }
    const q = response.body;
    const ev = q.events || {};
    const rows = [
      ["Events", number(ev.total)],
      ["… without a timestamp", number(ev.missing_timestamp)],
      ["… timestamped in the future", number(ev.future_timestamp)],
      ["… implausibly old", number(ev.ancient_timestamp)],
      ["… from never-identified visitors", number(ev.unknown_users)],
      ["Reviews", number(q.reviews && q.reviews.total)],
      ["… not linked to a user", number(q.reviews && q.reviews.unlinked)],
      ["Conversations", number(q.conversations && q.conversations.total)],
      ["… not linked to a user", number(q.conversations && q.conversations.unlinked)],
    ];
    for (const [kind, count] of Object.entries(q.duplicates || {})) rows.push([`Duplicate ${kind}`, number(count)]);
    for (const [kind, info] of Object.entries(q.rejected || {})) rows.push([`Rejected ${kind}`, number(info.count)]);
    const findings = q.findings || [];
    replace(
      container,
      el("h3", { text: "Findings" }),
      findings.length
        ? el("ul", { className: "findings" }, findings.map((f) => el("li", { text: itemText(f) })))
        : el("p", { text: "No findings: the data looks clean." }),
      dataTable(`Counts over the last ${q.window_days || 30} days`, ["What", "Count"], rows, "data-table counts"),
    );
  }

  // ---------- the whole page ----------
  async function loadAll(versionsResponse) {
    state.loading = true;
    try {
      const { current, list } = currentVersionOf(versionsResponse.body);
      const previous = previousVersionOf(current, list);
      const [personasR, previousR, painsR, journeysR, funnelR, qualityR, shiftsR, recsR] = await Promise.all([
        getJSON("/v1/personas"),
        previous ? getJSON(`/v1/personas/versions/${encodeURIComponent(previous.version_id)}`) : null,
        getJSON("/v1/pain-points"),
        getJSON("/v1/journeys?top=5&max_step=6"),
        getJSON(FUNNEL_URL),
        getJSON("/v1/data-quality"),
        getJSON("/v1/shifts"),
        getJSON("/v1/recommendations"),
      ]);
      disposeCharts();
      const status = byId("version-status");
      if (!personasR.ok) {
        const message =
          personasR.status === 404
            ? "No personas yet: ingest data and run a refresh (personapulse refresh)."
            : `The personas could not be loaded (HTTP ${personasR.status}).`;
        replace(byId("persona-cards"), placeholder(message));
        replace(byId("journeys"), placeholder("Journeys appear once personas exist."));
        status.textContent = message;
        renderGate(null);
      } else {
        const { version, personas } = personasR.body;
        const cardsR = await Promise.all(
          personas.map((p) => getJSON(`/v1/personas/${encodeURIComponent(p.persona_id)}/card`)),
        );
        const ctx = {
          reliable: Boolean(version.reliable),
          previousId: previous ? previous.version_id : null,
          previousPersonas: new Map(
            ((previousR && previousR.ok && previousR.body.personas) || []).map((p) => [p.persona_id, p]),
          ),
          painPoints: groupBy(painsR.ok ? painsR.body.pain_points : [], "persona_id"),
          cards: new Map(personas.map((p, i) => [p.persona_id, cardsR[i].ok ? cardsR[i].body : null])),
        };
        const cards = personas.map((p) => personaCard(p, ctx));
        const vanished = (version.vanished || []).length
          ? el("p", {
              className: "vanished",
              text: `Gone since ${ctx.previousId}: ${version.vanished
                .map((id) => (ctx.previousPersonas.has(id) ? personaName(ctx.previousPersonas.get(id)) : id))
                .join(", ")}.`,
            })
          : null;
        replace(byId("persona-cards"), cards, vanished);
        renderGate(version);
        const mounts = [...renderJourneys(personas, journeysR), ...renderFunnel(personas, funnelR)];
        const names = new Map(personas.map((p) => [p.persona_id, personaName(p)]));
        renderShifts(shiftsR, names);
        renderRecommendations(recsR, names);
        mounts.forEach((m) => m.mount());
        status.textContent =
          `Version ${version.version_id} · ${personas.length} personas · ` +
          `${version.reliable ? "reliable" : "not reliable"} · built ${new Date(version.created_ms).toLocaleString()}`;
      }
      if (!personasR.ok) {
        renderShifts(shiftsR, new Map());
        renderRecommendations(recsR, new Map());
        const mounts = renderFunnel([], funnelR);
        mounts.forEach((m) => m.mount());
      }
      renderQuality(qualityR);
      state.versionId = current ? current.version_id : null;
      state.renders += 1;
      state.lastError = null;
      root.dataset.versionId = state.versionId || "";
      root.dataset.renders = String(state.renders);
    } finally {
      state.loading = false;
    }
  }

  async function poll() {
    try {
      if (!state.loading) {
        const versions = await getJSON("/v1/personas/versions");
        const { current } = currentVersionOf(versions.body);
        const id = current ? current.version_id : null;
        if (versions.ok && id !== state.versionId) await loadAll(versions);
      }
    } catch (error) {
      state.lastError = String(error);
      const status = byId("version-status");
      if (status) status.textContent = `Could not reach the service; retrying (${error.message}).`;
    } finally {
      window.setTimeout(poll, POLL_MS);
    }
  }

  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  poll();
})();

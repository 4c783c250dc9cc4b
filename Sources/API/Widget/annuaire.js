/*
 * Annuaire des experts — Manufactures de proximité (France Tiers-Lieux).
 * A web component for any site: <script src="https://…/widget/v1/annuaire.js" defer></script>
 * then <mdp-annuaire></mdp-annuaire>. Plain JavaScript, no framework, nothing loaded from another host.
 *
 * Attributes (all optional):
 *   api        base URL of the API (default: where this script was loaded from)
 *   theme      a theme code to preset ("6"), subtheme a subtheme code ("6.1")
 *   region     a région code to preset ("84")
 *   page-size  results per page, 1 to 100 (default 10)
 *   q          a search to run at once
 * Styling: CSS custom properties on the element (or any ancestor):
 *   --mdp-font, --mdp-text, --mdp-muted, --mdp-background, --mdp-surface, --mdp-accent, --mdp-accent-text,
 *   --mdp-border, --mdp-radius, --mdp-focus
 * Only what each expert agreed to publish is shown: the API never returns the rest.
 */
(() => {
  "use strict";
  if (customElements.get("mdp-annuaire")) return;

  const scriptBase = (() => {
    try {
      return new URL(".", document.currentScript && document.currentScript.src).href.replace(/\/widget\/v1\/$/, "");
    } catch (error) {
      return "";
    }
  })();

  const css = `
    :host { display: block; font-family: var(--mdp-font, system-ui, sans-serif); color: var(--mdp-text, #1e1e1e);
      background: var(--mdp-background, transparent); line-height: 1.5; }
    * { box-sizing: border-box; }
    form { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); align-items: end;
      padding: 1rem; background: var(--mdp-surface, #f6f6f6); border-radius: var(--mdp-radius, 4px); }
    label { display: grid; gap: .25rem; font-weight: 600; font-size: .95rem; }
    input, select, button { font: inherit; padding: .5rem .6rem; border: 1px solid var(--mdp-border, #8a8a8a);
      border-radius: var(--mdp-radius, 4px); background: #fff; color: inherit; min-width: 0; }
    button { background: var(--mdp-accent, #000091); color: var(--mdp-accent-text, #fff); border-color: transparent;
      cursor: pointer; font-weight: 600; }
    button[disabled] { opacity: .6; cursor: progress; }
    :focus-visible { outline: 3px solid var(--mdp-focus, #0a76f6); outline-offset: 2px; }
    .remote { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
    .status { margin: 1rem 0 .5rem; font-weight: 600; }
    .error { color: #ce0500; }
    ul { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; }
    article { border: 1px solid var(--mdp-border, #ddd); border-radius: var(--mdp-radius, 4px); padding: 1rem; }
    article:focus { outline: 3px solid var(--mdp-focus, #0a76f6); }
    h3 { margin: 0 0 .25rem; font-size: 1.1rem; }
    .organisation, .where { color: var(--mdp-muted, #555); margin: 0; }
    .summary { margin: .5rem 0; }
    .tags { display: flex; flex-wrap: wrap; gap: .25rem; margin: .25rem 0; padding: 0; }
    .tags li { background: var(--mdp-surface, #eee); border-radius: 999px; padding: 0 .6rem; font-size: .85rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: .5rem 0 0; }
    dt { font-weight: 600; }
    dd { margin: 0; overflow-wrap: anywhere; }
    a { color: var(--mdp-accent, #000091); }
    .more { margin-top: 1rem; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `;

  let counter = 0;

  class Annuaire extends HTMLElement {
    static get observedAttributes() { return ["api", "theme", "subtheme", "region", "page-size", "q"]; }

    constructor() {
      super();
      this.id_ = `mdp-annuaire-${++counter}`;
      this.root = this.attachShadow({ mode: "open" });
      this.reference = null;
      this.next = null;
      this.generation = 0;
    }

    connectedCallback() {
      if (this.form) return;
      this.render();
      this.load();
    }

    attributeChangedCallback(name, before, after) {
      if (!this.form || before === after) return;
      // Only what changed: a choice the visitor made by hand in another control stays.
      if (name === "theme" || name === "subtheme" || name === "region" || name === "q") this.preset(name);
      this.search();
    }

    get api() { return (this.getAttribute("api") || scriptBase || location.origin).replace(/\/+$/, ""); }

    get pageSize() {
      const size = parseInt(this.getAttribute("page-size") || "10", 10);
      return Number.isFinite(size) ? Math.min(100, Math.max(1, size)) : 10;
    }

    element(tag, properties = {}, ...children) {
      const node = document.createElement(tag);
      for (const [key, value] of Object.entries(properties)) {
        if (key === "text") node.textContent = value;
        else if (key === "class") node.className = value;
        else node.setAttribute(key, value);
      }
      for (const child of children) if (child) node.append(child);
      return node;
    }

    field(label, control) {
      return this.element("label", {}, this.element("span", { text: label }), control);
    }

    render() {
      const id = this.id_;
      // A constructed style sheet needs no inline style, so a host page's strict Content-Security-Policy keeps it.
      if ("adoptedStyleSheets" in this.root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        this.root.adoptedStyleSheets = [sheet];
      } else {
        this.root.append(this.element("style", { text: css }));
      }
      this.query = this.element("input", { type: "search", name: "q", autocomplete: "off", id: `${id}-q`,
        placeholder: "Nom, compétence, secteur…" });
      this.theme = this.element("select", { name: "theme", id: `${id}-theme` });
      this.subtheme = this.element("select", { name: "subtheme", id: `${id}-subtheme` });
      this.region = this.element("select", { name: "region", id: `${id}-region` });
      this.remote = this.element("input", { type: "checkbox", name: "remote", id: `${id}-remote` });
      this.submit = this.element("button", { type: "submit", text: "Rechercher" });
      this.form = this.element("form", { role: "search", "aria-label": "Rechercher un expert dans l'annuaire" },
        this.field("Rechercher un expert", this.query),
        this.field("Thématique", this.theme),
        this.field("Sous-thématique", this.subtheme),
        this.field("Région", this.region),
        this.element("label", { class: "remote" }, this.remote, this.element("span", { text: "Intervient à distance" })),
        this.submit);
      this.status = this.element("p", { class: "status", role: "status", "aria-live": "polite", id: `${id}-status` });
      this.list = this.element("ul", { "aria-labelledby": `${id}-status` });
      this.moreButton = this.element("button", { type: "button", class: "more", text: "Afficher plus d'experts" });
      this.moreButton.hidden = true;
      // French, whatever the host page's language, so screen readers read it with a French voice.
      this.root.append(this.element("div", { lang: "fr", class: "annuaire" }, this.form, this.status, this.list, this.moreButton));
      this.form.addEventListener("submit", (event) => { event.preventDefault(); this.search(); });
      this.theme.addEventListener("change", () => { this.fillSubthemes(); this.search(); });
      for (const control of [this.subtheme, this.region, this.remote]) control.addEventListener("change", () => this.search());
      this.moreButton.addEventListener("click", () => this.more());
      this.option(this.theme, "", "Toutes les thématiques");
      this.option(this.subtheme, "", "Toutes les sous-thématiques");
      this.option(this.region, "", "Toutes les régions");
    }

    option(select, value, label) { select.append(this.element("option", { value, text: label })); }

    async fetchJSON(path) {
      const response = await fetch(this.api + path, { headers: { Accept: "application/json" }, credentials: "omit" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    }

    async load() {
      if (this.loading) return;
      this.loading = true;
      try {
        const [taxonomy, territories] = await Promise.all([this.fetchJSON("/v1/taxonomy"), this.fetchJSON("/v1/territories")]);
        this.reference = { taxonomy, territories,
          themes: new Map(taxonomy.themes.map((theme) => [theme.code, theme])),
          subthemes: new Map(taxonomy.themes.flatMap((theme) => theme.subthemes).map((sub) => [sub.code, sub])),
          regions: new Map(territories.regions.map((region) => [region.code, region])),
          departments: new Map(territories.regions.flatMap((region) => region.departments).map((d) => [d.code, d])) };
        for (const theme of taxonomy.themes) this.option(this.theme, theme.code, `${theme.code}. ${theme.label_fr}`);
        const regions = [...territories.regions].sort((a, b) => a.name.localeCompare(b.name, "fr"));
        for (const region of regions) this.option(this.region, region.code, region.name);
      } catch (error) {
        this.reference = null;
        this.fail();
        return;
      } finally {
        this.loading = false;
      }
      // What the visitor typed while the lists failed to load stays.
      const typed = this.query.value;
      this.preset();
      if (typed && !this.hasAttribute("q")) this.query.value = typed;
      this.search();
    }

    /** Applies the attributes (all of them, or only `only`) to the controls. */
    preset(only) {
      if (!this.reference) return;
      if (!only || only === "theme" || only === "subtheme") {
        const theme = this.getAttribute("theme"), subtheme = this.getAttribute("subtheme");
        const fromSubtheme = subtheme && this.reference.subthemes.get(subtheme);
        this.theme.value = fromSubtheme ? fromSubtheme.theme_code : (theme && this.reference.themes.has(theme) ? theme : "");
        this.fillSubthemes();
        if (fromSubtheme) this.subtheme.value = subtheme;
      }
      if (!only || only === "region") {
        const region = this.getAttribute("region");
        this.region.value = region && this.reference.regions.has(region) ? region : "";
      }
      if (!only || only === "q") this.query.value = this.getAttribute("q") || "";
    }

    fillSubthemes() {
      this.subtheme.replaceChildren();
      this.option(this.subtheme, "", "Toutes les sous-thématiques");
      const theme = this.reference && this.reference.themes.get(this.theme.value);
      this.subtheme.disabled = !theme;
      if (!theme) return;
      for (const sub of theme.subthemes) this.option(this.subtheme, sub.code, `${sub.code} ${sub.label_fr}`);
    }

    parameters() {
      const parameters = new URLSearchParams();
      const text = this.query.value.trim().slice(0, 200);
      if (text) parameters.set("q", text);
      if (this.subtheme.value) parameters.set("subtheme", this.subtheme.value);
      else if (this.theme.value) parameters.set("theme", this.theme.value);
      if (this.region.value) parameters.set("region", this.region.value);
      if (this.remote.checked) parameters.set("remote", "true");
      parameters.set("limit", String(this.pageSize));
      return parameters;
    }

    async search() {
      // The reference lists failed to load: try them again (they search once loaded).
      if (!this.reference) return this.load();
      const generation = ++this.generation;
      this.parametersInUse = this.parameters();
      this.busy(true);
      try {
        const page = await this.fetchJSON(`/v1/directory/experts?${this.parametersInUse}`);
        if (generation !== this.generation) return;
        this.list.replaceChildren();
        this.show(page, false);
      } catch (error) {
        if (generation === this.generation) this.fail();
      } finally {
        if (generation === this.generation) this.busy(false);
      }
    }

    async more() {
      if (!this.next) return;
      const generation = this.generation;
      const parameters = new URLSearchParams(this.parametersInUse);
      parameters.set("cursor", this.next);
      this.busy(true);
      try {
        const page = await this.fetchJSON(`/v1/directory/experts?${parameters}`);
        if (generation !== this.generation) return;
        this.show(page, true);
      } catch (error) {
        // The experts already shown stay: only the next page failed.
        if (generation === this.generation) this.fail(false);
      } finally {
        if (generation === this.generation) this.busy(false);
      }
    }

    busy(on) {
      // The search button stays usable: a new search replaces the running one (its answer is then ignored).
      this.moreButton.disabled = on;
      this.list.setAttribute("aria-busy", on ? "true" : "false");
    }

    fail(clear = true) {
      this.status.className = "status error";
      this.status.textContent = "L'annuaire ne répond pas pour le moment. Réessayez dans quelques instants.";
      if (clear) {
        this.list.replaceChildren();
        this.next = null;
        this.moreButton.hidden = true;
      }
    }

    show(page, appended) {
      const total = page.total;
      this.status.className = "status";
      this.status.textContent = total === 0 ? "Aucun expert ne correspond à cette recherche."
        : total === 1 ? "1 expert trouvé." : `${total.toLocaleString("fr-FR")} experts trouvés.`;
      let first = null;
      for (const expert of page.items) {
        const item = this.card(expert);
        first = first || item;
        this.list.append(this.element("li", {}, item));
      }
      this.next = page.has_more ? page.next_cursor : null;
      this.moreButton.hidden = !this.next;
      // After "more", keyboard and screen-reader users land on the first new expert rather than at the end.
      if (appended && first) first.focus();
      this.dispatchEvent(new CustomEvent("mdp-results", { detail: { total, shown: this.list.children.length } }));
    }

    card(expert) {
      const reference = this.reference;
      const name = `${expert.first_name} ${expert.last_name}`;
      const article = this.element("article", { tabindex: "-1", "aria-label": name, "data-expert-id": expert.expert_id });
      article.append(this.element("h3", { text: name }));
      if (expert.organisation_name) article.append(this.element("p", { class: "organisation", text: expert.organisation_name }));
      article.append(this.element("p", { class: "where", text: this.coverage(expert.coverage) }));
      if (expert.summary) article.append(this.element("p", { class: "summary", text: expert.summary }));
      const tags = this.element("ul", { class: "tags", "aria-label": "Sous-thématiques" });
      for (const code of expert.subthemes || []) {
        const sub = reference.subthemes.get(code);
        tags.append(this.element("li", { text: sub ? sub.label_fr : code }));
      }
      article.append(tags);
      const contact = this.element("dl", { "aria-label": `Contact de ${name}` });
      const add = (label, node) => contact.append(this.element("dt", { text: label }), this.element("dd", {}, node));
      if (expert.email) add("Courriel", this.link(`mailto:${expert.email}`, expert.email));
      if (expert.phone) add("Téléphone", this.link(`tel:${expert.phone.replace(/[^+0-9]/g, "")}`, expert.phone));
      if (expert.website && /^https?:\/\//i.test(expert.website)) add("Site web", this.link(expert.website, expert.website, true));
      if (contact.children.length) article.append(contact);
      return article;
    }

    link(href, text, external) {
      const link = this.element("a", { href, text });
      if (external) {
        link.setAttribute("rel", "noopener noreferrer external");
        link.setAttribute("target", "_blank");
        link.append(this.element("span", { class: "visually-hidden", text: " (nouvelle fenêtre)" }));
      }
      return link;
    }

    coverage(coverage) {
      const parts = [];
      if (coverage.national) parts.push("Toute la France");
      const reference = this.reference;
      for (const code of coverage.regions || []) parts.push((reference.regions.get(code) || { name: code }).name);
      for (const code of coverage.departments || []) {
        const department = reference.departments.get(code);
        parts.push(department ? `${department.name} (${code})` : code);
      }
      if (coverage.remote) parts.push("à distance");
      return parts.length ? `Intervient : ${parts.join(", ")}` : "";
    }
  }

  customElements.define("mdp-annuaire", Annuaire);
})();

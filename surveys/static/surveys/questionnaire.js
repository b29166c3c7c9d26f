/* Agora Delphi questionnaire: progressive enhancement only. Without JavaScript the page is a
   plain form that saves and submits; with it, answers autosave (htmx), unsaved changes survive
   a lost network or an expired session in localStorage, the probability slider follows the
   number field, a year's "never" box and its year field exclude each other, and rankings can
   be dragged or moved with Up/Down buttons. */
(function () {
  "use strict";
  const form = document.getElementById("questionnaire");
  if (!form) return;
  const storeKey = form.dataset.storeKey;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  if (csrf) form.setAttribute("hx-headers", JSON.stringify({"X-CSRFToken": csrf.value}));
  let inflight = 0, lastChange = 0, submitting = false;

  /* ---- unsaved changes kept on this device until the server confirms them ---- */
  function pending() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  function setPending(p) {
    try {
      if (Object.keys(p).length) localStorage.setItem(storeKey, JSON.stringify(p));
      else localStorage.removeItem(storeKey);
    } catch (e) { /* storage full or disabled: autosave still works online */ }
  }
  function fieldsOf(item) {
    const values = {};
    item.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      values[el.name] = el.value;
    });
    return values;
  }
  function remember(item) {
    const p = pending();
    p[item.dataset.item] = fieldsOf(item);
    setPending(p);
  }
  function forget(item) {
    const p = pending();
    delete p[item.dataset.item];
    setPending(p);
  }
  function restore(item, values) {
    item.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") el.checked = values[el.name] === el.value;
      else el.value = values[el.name] !== undefined ? values[el.name] : "";
    });
  }
  function state(item, text, failed) {
    const el = item.querySelector(".save-state");
    if (el) { el.textContent = text; el.className = "save-state" + (failed ? " save-failed" : ""); }
  }
  function retryPending() {
    const p = pending();
    Object.keys(p).forEach(function (code) {
      const item = form.querySelector('[data-item="' + CSS.escape(code) + '"]');
      if (item && window.htmx) htmx.trigger(item, "change");
    });
  }

  form.addEventListener("change", function (e) {
    lastChange = Date.now();
    const item = e.target.closest("[data-item]");
    if (item) remember(item);
  });
  form.addEventListener("input", function (e) {
    lastChange = Date.now();
    const item = e.target.closest("[data-item]");
    if (item) remember(item);
  });
  document.body.addEventListener("htmx:beforeRequest", function () { inflight += 1; });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    inflight = Math.max(0, inflight - 1);
    const item = e.detail.elt.closest && e.detail.elt.closest("[data-item]");
    if (!item) return;
    const status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (status === 200 || status === 400 || status === 409) {
      forget(item);  /* saved, or refused for a reason shown next to the item */
    } else {
      remember(item);
      state(item, form.dataset.labelUnsaved || "Not saved yet: kept on this device, will retry.", true);
    }
  });
  window.addEventListener("online", retryPending);
  setInterval(function () { if (Object.keys(pending()).length && navigator.onLine) retryPending(); }, 15000);

  /* A submit waits for autosaves in flight, so its version number is the latest one. */
  form.addEventListener("submit", function (e) {
    if (submitting) return;
    if (inflight === 0 && Date.now() - lastChange > 700) { setPending({}); return; }
    e.preventDefault();
    const submitter = e.submitter;
    const timer = setInterval(function () {
      if (inflight === 0 && Date.now() - lastChange > 700) {
        clearInterval(timer);
        submitting = true;
        setPending({});
        form.requestSubmit(submitter);
      }
    }, 100);
  });

  /* ---- coming back: re-apply what was typed but never confirmed by the server ---- */
  const saved = pending();
  Object.keys(saved).forEach(function (code) {
    const item = form.querySelector('[data-item="' + CSS.escape(code) + '"]');
    if (item) restore(item, saved[code]);
  });
  if (Object.keys(saved).length) setTimeout(retryPending, 500);

  /* ---- probability: a slider tied to the number field; without an answer its thumb is
     hidden and it says so (a thumb at 50 would look like an answer of 50 %) ---- */
  function sliderSet(slider, value) {
    const box = slider.parentNode, empty = box.querySelector(".slider-empty");
    const unset = value === "";
    if (!unset) slider.value = value;
    slider.classList.toggle("unset", unset);
    if (unset) slider.setAttribute("aria-valuetext", empty ? empty.textContent : "");
    else slider.removeAttribute("aria-valuetext");
    if (empty) empty.hidden = !unset;
  }
  form.querySelectorAll("input[data-slider-for]").forEach(function (slider) {
    const number = document.getElementById(slider.dataset.sliderFor);
    slider.hidden = false;
    sliderSet(slider, slider.dataset.unset ? "" : number.value);
    const mark = slider.parentNode.querySelector(".was-mark");
    if (mark) {  /* the previous round's answer, marked on the track */
      mark.style.left = Math.min(100, Math.max(0, parseFloat(mark.dataset.at))) + "%";
      mark.hidden = false;
      slider.parentNode.querySelector(".was-label").hidden = false;
    }
    slider.addEventListener("input", function () { number.value = slider.value; sliderSet(slider, slider.value); });
    slider.addEventListener("change", function () {
      number.value = slider.value;
      number.dispatchEvent(new Event("change", {bubbles: true}));
    });
    number.addEventListener("input", function () { sliderSet(slider, number.value); });
    slider.syncFromNumber = function () { sliderSet(slider, number.value); };
  });

  /* ---- a year's "never" answer: it and a year exclude each other ---- */
  form.querySelectorAll("input[data-never-for]").forEach(function (never) {
    const number = document.getElementById(never.dataset.neverFor);
    never.addEventListener("change", function () { if (never.checked) number.value = ""; });
    number.addEventListener("input", function () { if (number.value !== "") never.checked = false; });
  });

  /* ---- ranking: drag and drop, and Up/Down buttons that do the same ---- */
  form.querySelectorAll("[data-ranking]").forEach(function (box) {
    const list = box.querySelector(".rank-list");
    const parts = Array.from(box.querySelectorAll(".part[data-option]"));
    const live = document.createElement("p");
    live.className = "sr-only"; live.setAttribute("aria-live", "polite");
    box.appendChild(live);
    const placed = function (p) { return parseInt(p.querySelector("select").value, 10) || 99; };
    /* Unanswered in this round: the options start in the expert's previous order, which they
       confirm ("Use this order" or their previous answer's Keep button) or change. */
    const fresh = parts.every(function (p) { return !p.querySelector("select").value; });
    const before = function (p) { return parseInt(p.dataset.previous, 10) || 99; };
    parts.sort(function (a, b) { return fresh ? before(a) - before(b) : placed(a) - placed(b); });
    function write() {
      Array.from(list.children).forEach(function (li, k) {
        const select = box.querySelector('.part[data-option="' + li.dataset.option + '"] select');
        select.value = String(k + 1);
        li.querySelector(".rank-no").textContent = (k + 1) + ".";
      });
      list.dispatchEvent(new Event("change", {bubbles: true}));
      const keep = box.querySelector(".rank-keep");
      if (keep) keep.remove();
    }
    function move(li, delta, button) {
      const target = delta < 0 ? li.previousElementSibling : li.nextElementSibling;
      if (!target) return;
      if (delta < 0) list.insertBefore(li, target); else list.insertBefore(target, li);
      write();
      live.textContent = li.dataset.label + ": " + (Array.from(list.children).indexOf(li) + 1);
      if (button) button.focus();
    }
    parts.forEach(function (part) {
      const li = document.createElement("li");
      li.draggable = true;
      li.dataset.option = part.dataset.option;
      li.dataset.label = part.dataset.label;
      const no = document.createElement("span"); no.className = "rank-no";
      const text = document.createElement("span"); text.className = "rank-text"; text.textContent = part.dataset.label;
      li.append(no, text);
      [["up", -1, form.dataset.labelUp || "Up"], ["down", 1, form.dataset.labelDown || "Down"]].forEach(function (spec) {
        const b = document.createElement("button");
        b.type = "button"; b.className = "rank-" + spec[0]; b.textContent = spec[2];
        b.setAttribute("aria-label", spec[2] + ": " + part.dataset.label);
        b.addEventListener("click", function () { move(li, spec[1], b); });
        li.appendChild(b);
      });
      li.addEventListener("dragstart", function (e) { e.dataTransfer.setData("text/plain", li.dataset.option); li.classList.add("dragging"); });
      li.addEventListener("dragend", function () { li.classList.remove("dragging"); });
      li.addEventListener("dragover", function (e) { e.preventDefault(); });
      li.addEventListener("drop", function (e) {
        e.preventDefault();
        const dragged = list.querySelector('li[data-option="' + CSS.escape(e.dataTransfer.getData("text/plain")) + '"]');
        if (dragged && dragged !== li) { list.insertBefore(dragged, li); write(); }
      });
      list.appendChild(li);
    });
    Array.from(list.children).forEach(function (li, k) { li.querySelector(".rank-no").textContent = (k + 1) + "."; });
    if (parts.every(function (p) { return !p.querySelector("select").value; })) {
      const keep = document.createElement("button");  /* the shown order is not an answer yet */
      keep.type = "button"; keep.className = "rank-keep"; keep.textContent = form.dataset.labelKeep || "Use this order";
      keep.addEventListener("click", function () { list.querySelector("button").focus(); write(); });
      list.after(keep);
    }
    box.reorder = function () {  /* follow the places in the selects (a kept answer) */
      Array.from(list.children).sort(function (a, b) {
        const pa = box.querySelector('.part[data-option="' + CSS.escape(a.dataset.option) + '"]');
        const pb = box.querySelector('.part[data-option="' + CSS.escape(b.dataset.option) + '"]');
        return placed(pa) - placed(pb);
      }).forEach(function (li, k) { list.appendChild(li); li.querySelector(".rank-no").textContent = (k + 1) + "."; });
      const keep = box.querySelector(".rank-keep");
      if (keep) keep.remove();
    };
    box.classList.add("enhanced");
  });

  /* ---- keep my answer from the previous round: fill the item's fields with it and let the
     autosave save it, as if the expert had given it again (without the script the button
     posts the form and the server does the same) ---- */
  form.querySelectorAll("button.keep[data-keep]").forEach(function (button) {
    button.addEventListener("click", function (e) {
      e.preventDefault();
      const item = button.closest("[data-item]");
      const values = JSON.parse(button.dataset.keep);
      let last = null;
      item.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
        if (!el.name.startsWith("a-") || el.name.endsWith(".why")) return;
        if (el.type === "radio" || el.type === "checkbox") el.checked = values[el.name] === el.value;
        else el.value = values[el.name] !== undefined ? values[el.name] : "";
        last = el;
      });
      item.querySelectorAll("input[data-slider-for]").forEach(function (s) { if (s.syncFromNumber) s.syncFromNumber(); });
      const ranking = item.querySelector("[data-ranking]");
      if (ranking && ranking.reorder) ranking.reorder();
      if (last) last.dispatchEvent(new Event("change", {bubbles: true}));
    });
  });

  /* ---- times in the expert's own time zone, named (the page says UTC without the script) ---- */
  function localTimes(root) {
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      const options = {hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"};
      if (el.dataset.local === "time") options.second = "2-digit";
      else { options.year = "numeric"; options.month = "short"; options.day = "numeric"; }
      const lang = document.documentElement.lang || undefined;
      let text = new Intl.DateTimeFormat(lang, options).format(when);
      if (zone && zone !== "UTC" && text.indexOf(zone) < 0) text += " (" + zone + ")";
      el.textContent = text;
      el.removeAttribute("data-local");  /* done: a later swap does not format it twice */
    });
  }
  localTimes(document);
  document.body.addEventListener("htmx:afterSwap", function (e) { localTimes(e.detail.target || document); });

  const confirm = document.getElementById("submit-confirm");
  if (confirm) confirm.focus();
})();

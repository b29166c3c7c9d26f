// The Fielding page while a survey is open: every data-poll-seconds (read before each wait, so
// it can be changed) it reads the API's fielding/dashboard/ (the figures the page was drawn
// from) and writes the counts into the table in place; when the number of completions has
// changed it takes the histograms from a fresh copy of this page (drawn on the server). It
// stops once the API says fielding has ended and skips its turns while the tab is hidden.
// Without JavaScript the page is a plain table as of its "Last updated" time.
(function () {
  "use strict";

  var live = document.getElementById("fielding-live");
  if (!live || !live.dataset.api) {
    return;
  }
  var language = document.documentElement.lang || "en";
  var number = new Intl.NumberFormat(language, {useGrouping: false, maximumFractionDigits: 1});
  var share = new Intl.NumberFormat(language, {useGrouping: false, minimumFractionDigits: 1,
                                               maximumFractionDigits: 1});
  var completed = null;

  function put(element, text) {
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function seconds(value) {
    return value === null ? "—" : live.dataset.seconds.replace("%s", number.format(Math.round(value)));
  }

  function fill(row, figures) {
    var field = function (name) { return row.querySelector('[data-field="' + name + '"]'); };
    ["entries", "consented", "started", "completed", "screened_out", "declined", "quota_full", "flagged"]
      .forEach(function (name) { put(field(name), number.format(figures[name])); });
    put(field("median_seconds"), seconds(figures.median_seconds));
    if (figures.quota) {
      put(field("fill"), number.format(figures.completed) + " / " + number.format(figures.quota) +
          " (" + share.format(figures.fill_pct) + " %)");
      var bar = row.querySelector("[data-fill]");
      if (bar) {
        bar.setAttribute("width", String(Math.min(figures.fill_pct, 100)));
      }
      var reached = row.querySelector("[data-reached]");
      if (reached) {
        reached.hidden = figures.completed < figures.quota;
      }
    }
  }

  function histograms() {
    fetch(window.location.pathname, {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("fielding-times");
        var times = document.getElementById("fielding-times");
        if (fresh && times) {
          times.replaceWith(fresh);
        }
      })
      .catch(function () { /* the next poll tries again */ });
  }

  function show(data) {
    data.rows.forEach(function (figures) {
      var row = live.querySelector('tbody tr[data-collector="' + CSS.escape(figures.code) + '"]');
      if (row) {
        fill(row, figures);
      }
    });
    fill(live.querySelector("tfoot tr"), data.totals);
    ["completed", "started", "flagged", "quotas_full"].forEach(function (name) {
      put(live.querySelector('[data-total="' + name + '"]'), number.format(data.totals[name]));
    });
    var updated = live.querySelector("[data-updated]");
    if (updated) {
      updated.setAttribute("datetime", data.updated_at);
      put(updated, data.updated_at.substring(11, 19));
    }
    if (completed !== null && completed !== data.totals.completed) {
      histograms();
    }
    completed = data.totals.completed;
  }

  function poll() {
    if (document.hidden) {
      wait();  // nobody is looking: ask when the tab is shown again
      return;
    }
    fetch(live.dataset.api, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (answer) {
        if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
          return null;  // signed out or no longer a member: asking again will not help
        }
        return answer.ok ? answer.json() : Promise.reject(answer);
      })
      .then(function (data) {
        if (data) {
          show(data);
        }
        if (data && data.open) {
          wait();
        } else if (data) {
          var state = live.querySelector("[data-state]");
          put(state, state ? state.dataset.closed : "");
        }
      })
      .catch(wait);
  }

  function wait() {
    var every = parseFloat(live.dataset.pollSeconds);
    window.setTimeout(poll, 1000 * (every > 0 ? every : 10));
  }

  completed = parseInt(live.querySelector('[data-total="completed"]').textContent, 10);
  wait();
}());

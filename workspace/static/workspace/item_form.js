// The item form shows the chosen kind's fields only: switch them as the kind changes.
// Without this script the form still works: "Show this kind's fields" posts it back unsaved.
(function () {
  "use strict";
  const form = document.querySelector(".ws-item-form");
  const kind = form && form.querySelector("select[name='kind']");
  if (!kind) return;
  const show = form.querySelector(".ws-kind-show");
  if (show) show.hidden = true;
  function update() {
    form.querySelectorAll("[data-kinds]").forEach(function (el) {
      el.hidden = el.dataset.kinds.split(" ").indexOf(kind.value) < 0;
    });
  }
  kind.addEventListener("change", update);
  update();
})();

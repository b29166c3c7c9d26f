// Ask before an irreversible action, in a dialog, when JavaScript runs. A form with
// data-confirm-title holds what will happen in a hidden .ws-consequences element; confirming
// adds confirm=1 and submits. Without JavaScript the server shows the same text on a page.
(function () {
  "use strict";

  function ask(form) {
    var dialog = document.createElement("dialog");
    dialog.className = "ws-dialog";
    dialog.setAttribute("aria-labelledby", "ws-dialog-title");
    var title = document.createElement("h2");
    title.id = "ws-dialog-title";
    title.textContent = form.dataset.confirmTitle;
    dialog.appendChild(title);
    var details = form.querySelector(".ws-consequences");
    if (details) {
      var copy = details.cloneNode(true);
      copy.hidden = false;
      dialog.appendChild(copy);
    }
    var buttons = document.createElement("div");
    buttons.className = "ws-actions";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "primary";
    yes.textContent = form.dataset.confirmButton;
    var no = document.createElement("button");
    no.type = "button";
    no.textContent = form.dataset.confirmCancel;
    buttons.appendChild(yes);
    buttons.appendChild(no);
    dialog.appendChild(buttons);
    document.body.appendChild(dialog);
    no.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); });
    yes.addEventListener("click", function () {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "confirm";
      field.value = "1";
      form.appendChild(field);
      dialog.close();
      form.submit();
    });
    dialog.showModal();
    no.focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirmTitle) return;
    if (!form.reportValidity()) return;
    event.preventDefault();
    ask(form);
  });
})();

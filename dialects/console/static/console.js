// tokengate console: the only script. It makes the journal and the fault
// hit counts live (server-sent events); every page works without it.
(function () {
  "use strict";

  function live(url, onEvents, status) {
    if (!window.EventSource) { return; }
    var es = new EventSource(url);
    es.addEventListener("open", function () {
      document.body.setAttribute("data-live", "open");
      if (status) { status.textContent = "Live: new requests appear at the top."; }
    });
    es.addEventListener("error", function () {
      document.body.setAttribute("data-live", "closed");
      if (status) { status.textContent = "Live updates interrupted; reconnecting…"; }
    });
    Object.keys(onEvents).forEach(function (name) { es.addEventListener(name, onEvents[name]); });
    window.addEventListener("pagehide", function () { es.close(); });
  }

  var rows = document.getElementById("journal-rows");
  if (rows) {
    var status = document.getElementById("live-status");
    var maxRows = parseInt(rows.getAttribute("data-max"), 10) || 200;
    live(rows.getAttribute("data-events"), {
      entry: function (ev) {
        var holder = document.createElement("tbody");
        holder.innerHTML = ev.data; // rendered and escaped by the server's templates
        var row = holder.firstElementChild;
        if (!row) { return; }
        var empty = rows.querySelector("tr.empty");
        if (empty) { empty.remove(); }
        row.classList.add("new");
        rows.insertBefore(row, rows.firstElementChild);
        while (rows.rows.length > maxRows) { rows.deleteRow(-1); }
      },
      dropped: function (ev) {
        status.textContent = ev.data + " requests were missed while this page was busy; reload to see them.";
      }
    }, status);
  }

  var faults = document.querySelector("[data-hits-events]");
  if (faults) {
    live(faults.getAttribute("data-hits-events"), {
      hits: function (ev) {
        var hits = JSON.parse(ev.data);
        Object.keys(hits).forEach(function (id) {
          var cell = faults.querySelector('[data-hits="' + CSS.escape(id) + '"]');
          if (cell && cell.textContent !== String(hits[id])) {
            cell.textContent = String(hits[id]);
            cell.classList.add("new");
          }
        });
      }
    });
  }
})();

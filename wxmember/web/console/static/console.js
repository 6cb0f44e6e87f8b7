// The staff console's little script: export progress, a job run followed to its end,
// one more row of a form's table, and the "back" links.
(function () {
  "use strict";

  document.querySelectorAll("[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (history.length > 1) { event.preventDefault(); history.back(); }
    });
  });

  // "＋ 再加一个奖品": a copy of the table's last row, emptied (at most 20 rows).
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var body = document.querySelector(button.getAttribute("data-add-row") + " tbody");
      if (!body || body.rows.length >= 20) { return; }
      var row = body.rows[body.rows.length - 1].cloneNode(true);
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      body.appendChild(row);
    });
  });

  // A form that undoes something asks first (data-confirm="…？").
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Fields shown only for some choices (data-when="kind:minus,cash"): without the
  // script every field shows and the server reads only those that apply.
  document.querySelectorAll("select[data-switch]").forEach(function (select) {
    var show = function () {
      document.querySelectorAll('[data-when^="' + select.name + ':"]').forEach(function (field) {
        var values = field.getAttribute("data-when").split(":")[1].split(",");
        field.hidden = values.indexOf(select.value) < 0;
      });
    };
    select.addEventListener("change", show);
    show();
  });

  // A job run started from the jobs page: its progress until it ends, then the page again.
  var watch = document.getElementById("watch");
  if (watch) {
    var runFill = document.getElementById("run-fill");
    var runText = document.getElementById("run-text");
    var runState = document.getElementById("run-state");
    var names = {running: "运行中", ok: "完成", failed: "失败"};
    var showRun = function (run) {  // the page's own text stays until the first answer
      var percent = run.state !== "running" ? 100
        : (run.total ? Math.min(100, Math.round(run.done * 100 / run.total)) : 10);
      runFill.style.width = percent + "%";
      runState.textContent = names[run.state] || run.state;
      runState.className = "state state-" + run.state;
      if (run.state === "running") {
        runText.textContent = "正在运行" + (run.done != null ? "：已处理 " + run.done +
          (run.total ? " / " + run.total : "") : "") + "…";
      } else if (run.state === "ok") {
        runText.textContent = "运行完成，用时 " + run.took + "。" + run.counts;
      } else if (run.state === "failed") {
        runFill.classList.add("failed");
        runText.textContent = "运行失败：" + run.error;
      }
    };
    if (watch.getAttribute("data-state") === "running") {
      var poll = setInterval(function () {
        fetch(watch.getAttribute("data-url"), {credentials: "same-origin"})
          .then(function (answer) { return answer.ok ? answer.json() : null; })
          .then(function (run) {
            if (!run) { return; }
            showRun(run);
            if (run.state !== "running") {
              clearInterval(poll);
              var url = new URL(location.href);
              url.searchParams.delete("done");  // the page again: the job's card is up to date
              setTimeout(function () {
                if (url.toString() === location.href) { location.reload(); }
                else { location.replace(url.toString()); }
              }, 600);
            }
          })
          .catch(function () {});
      }, 700);
    }
  }

  var box = document.getElementById("export-progress");
  if (!box) { return; }
  var fill = document.getElementById("export-fill");
  var text = document.getElementById("export-text");
  var timer = null;

  function show(done, total, state) {
    box.classList.remove("hidden");
    var percent = total ? Math.min(100, Math.round(done * 100 / total)) : 100;
    fill.style.width = percent + "%";
    if (state === "done") {
      text.textContent = "导出完成：共 " + done.toLocaleString() + " 条，文件已开始下载。";
    } else if (state === "sending") {
      text.textContent = "已写入 " + done.toLocaleString() + " 条，正在下载文件…";
    } else {
      text.textContent = "正在导出：已写入 " + done.toLocaleString() + " / " + total.toLocaleString() + " 条";
    }
  }

  function follow(id) {
    clearInterval(timer);
    timer = setInterval(function () {
      fetch("exports/" + id, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          show(body.done, body.total, body.state);
          if (body.state === "done") { clearInterval(timer); }
        })
        .catch(function () {});
    }, 700);
  }

  document.querySelectorAll("[data-export]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var bytes = new Uint8Array(12);
      crypto.getRandomValues(bytes);
      var id = Array.from(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      var url = new URL(link.href, location.href);
      url.searchParams.set("progress", id);
      show(0, 0, "writing");
      text.textContent = "正在准备导出…";
      follow(id);
      location.href = url.toString();  // an attachment: the page stays, the file downloads
    });
  });
})();

// The staff console's little script: export progress, and the "back" links.
(function () {
  "use strict";

  document.querySelectorAll("[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (history.length > 1) { event.preventDefault(); history.back(); }
    });
  });

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

/* The member pages' few helpers: the JSON API, a WeUI toast, yuan, the back button. */
const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
  try {
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: body ? {"Content-Type": "application/json"} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return await response.json();
  } catch (e) {
    return {ok: false, error: "network", message: "网络异常，请稍后再试"};
  }
}

function toast(text, ms) {
  $("toast-text").textContent = text;
  $("toast").style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { $("toast").style.display = "none"; }, ms || 2000);
}

function yuan(amount) {
  return "¥" + Number(amount || 0).toFixed(2);
}

function show(id, visible) {
  $(id).classList.toggle("hidden", !visible);
}

function confirmDialog(id) {
  /* Show the WeUI dialog ``id``; resolves true on its primary button, false otherwise. */
  return new Promise((resolve) => {
    const dialog = $(id);
    dialog.style.display = "block";
    dialog.setAttribute("aria-hidden", "false");
    const done = (answer) => (event) => {
      event.preventDefault();
      dialog.style.display = "none";
      dialog.setAttribute("aria-hidden", "true");
      resolve(answer);
    };
    dialog.querySelector(".js-yes").onclick = done(true);
    dialog.querySelector(".js-no").onclick = done(false);
    dialog.querySelector(".weui-mask").onclick = done(false);
  });
}

/* Back to a page WeChat kept in memory: show it as it is now, not as it was. */
window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

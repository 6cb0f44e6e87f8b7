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

function newRequestId() {
  /* Names one attempt (a tap): the API answers a repeat of it with the first answer. */
  return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
    : String(Date.now()) + Math.random().toString(16).slice(2);
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

function editableList(options) {
  /* A page of rows the member changes in a form (the address book, the invoice titles):
     rows with .js-edit/.js-delete/.js-default links, a #form with #save and #cancel. */
  const {rows, fields, prefix, api, row, titles, fill, collect} = options;
  let editing = null;
  const chosen = (event) => {
    event.preventDefault();
    const id = event.target.closest(row).dataset.id;
    return rows.find((item) => item.ID === id);
  };
  const open = (item) => {
    editing = item ? item.ID : null;
    $("form-title").textContent = item ? titles[1] : titles[0];
    for (const [field, column] of Object.entries(fields)) $(prefix + field).value = item ? (item[column] || "") : "";
    if (fill) fill(item);
    show("list", false);
    show("form", true);
    $("message").textContent = "";
    window.scrollTo(0, 0);
  };
  const act = async (path) => {
    const answer = await call("POST", path);
    if (!answer.ok) { toast(answer.message); return; }
    location.reload();
  };
  const refuse = (text) => { $("message").textContent = text; $("message").className = "status error"; };
  document.querySelectorAll(".js-edit").forEach((link) => { link.onclick = (e) => open(chosen(e)); });
  document.querySelectorAll(".js-default").forEach((link) => {
    link.onclick = (e) => act(api + "/" + chosen(e).ID + "/default");
  });
  document.querySelectorAll(".js-delete").forEach((link) => {
    link.onclick = async (e) => {
      const item = chosen(e);
      if (await confirmDialog("delete-dialog")) act(api + "/" + item.ID + "/delete");
    };
  });
  $("add").onclick = () => open(null);
  $("cancel").onclick = () => { show("form", false); show("list", true); };
  $("save").onclick = async () => {
    const body = collect ? collect(refuse) : {};
    if (body === null) return;
    for (const field of Object.keys(fields)) body[field] = $(prefix + field).value.trim();
    if (editing) body.id = editing;
    $("save").disabled = true;
    const answer = await call("POST", api, body);
    $("save").disabled = false;
    if (!answer.ok) { refuse(answer.message); return; }
    toast("已保存");
    setTimeout(() => location.reload(), 600);
  };
}

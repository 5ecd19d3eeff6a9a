// Turn web push on or off for this device. Without JavaScript the page explains instead.
(function () {
  const box = document.getElementById("push");
  if (!box) return;
  const status = document.getElementById("push-status");
  const on = document.getElementById("push-on");
  const off = document.getElementById("push-off");
  const texts = document.getElementById("push-texts").content;
  const say = (key) => { status.textContent = texts.querySelector(`[data-key="${key}"]`).textContent; };
  const csrf = () => (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] ||
    document.querySelector("input[name=csrfmiddlewaretoken]").value;
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return;

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  function post(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf() }, body: new URLSearchParams(data),
    }).then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); });
  }
  async function registration() {
    await navigator.serviceWorker.register("/service-worker.js", { scope: "/" });
    return navigator.serviceWorker.ready;
  }
  function save(sub) {
    const json = sub.toJSON();
    return post(box.dataset.subscribeUrl, {
      endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth,
      device: navigator.userAgent.slice(0, 200),
    });
  }
  async function show(resync) {
    const sub = await (await registration()).pushManager.getSubscription();
    // The server may have forgotten this device (gone, or taken over): tell it again.
    if (sub && resync) await save(sub).catch(() => {});
    on.hidden = !!sub; off.hidden = !sub;
    say(sub ? "on" : (Notification.permission === "denied" ? "denied" : "off"));
  }
  on.addEventListener("click", async () => {
    try {
      if (await Notification.requestPermission() !== "granted") { say("denied"); return; }
      const reg = await registration();
      const sub = await reg.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.vapidKey),
      });
      await save(sub);
      await show(false);
    } catch (e) { say("error"); }
  });
  off.addEventListener("click", async () => {
    const sub = await (await registration()).pushManager.getSubscription();
    if (sub) {
      await post(box.dataset.unsubscribeUrl, { endpoint: sub.endpoint }).catch(() => {});
      await sub.unsubscribe();
    }
    await show(false);
  });
  show(true).catch(() => {});
})();

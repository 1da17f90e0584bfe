// Passkeys (WebAuthn): "Sign in with a passkey" on the sign-in page, "Add a passkey" on the
// account page. Plain JavaScript, no build step, no inline script (the CSP allows none).
//
// The server speaks WebAuthn's JSON form, binary fields as base64url; the browser's API wants
// ArrayBuffers. Each ceremony is: POST .../begin -> options and a challenge id; the browser
// asks the authenticator (navigator.credentials.create or get); POST .../finish with its
// answer. The buttons stay hidden in a browser that cannot do passkeys.
(function () {
  "use strict";

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The CSRF token, as htmx sends it (the page's hx-headers), else the simtune_csrf cookie.
  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRF-Token"]) return headers["X-CSRF-Token"];
    } catch (ignored) { /* no usable hx-headers: try the cookie */ }
    var found = document.cookie.match(/(?:^|;\s*)simtune_csrf=([^;]+)/);
    return found ? decodeURIComponent(found[1]) : "";
  }

  async function post(url, body) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
      body: JSON.stringify(body || {}),
    });
    var data = await response.json().catch(function () { return {}; });
    if (!response.ok) throw new Error(data.detail || "Simtune answered " + response.status);
    return data;
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, {id: toBuffer(d.id)});
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      user: Object.assign({}, options.user, {id: toBuffer(options.user.id)}),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  // What the authenticator answered, in WebAuthn's JSON form.
  function answerJSON(credential) {
    var r = credential.response;
    var response = {clientDataJSON: toText(r.clientDataJSON)};
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    }
    if (r.authenticatorData) {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: response,
    };
  }

  function say(box, message) {
    var error = box.querySelector("#passkey-error");
    error.querySelector("p").textContent = message;
    error.hidden = !message;
  }

  function why(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Try again.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This device already holds a passkey for your account.";
    }
    return (error && error.message) || "Something went wrong with the passkey.";
  }

  async function signIn(box, button) {
    say(box, "");
    button.disabled = true;
    try {
      var begun = await post("/api/auth/passkeys/signin/begin");
      var credential = await navigator.credentials.get({publicKey: requestOptions(begun.options)});
      await post("/api/auth/passkeys/signin/finish", {
        challenge_id: begun.challenge_id,
        credential: answerJSON(credential),
      });
      window.location.assign(button.dataset.next || "/");
    } catch (error) {
      say(box, why(error));
      button.disabled = false;
    }
  }

  async function add(box, form) {
    say(box, "");
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      var begun = await post("/api/auth/passkeys/register/begin");
      var credential = await navigator.credentials.create({
        publicKey: creationOptions(begun.options),
      });
      var name = form.querySelector("#passkey-name").value.trim();
      await post("/api/auth/passkeys/register/finish", {
        challenge_id: begun.challenge_id,
        credential: answerJSON(credential),
        name: name || "passkey",
      });
      window.location.assign("/account");
    } catch (error) {
      say(box, why(error));
      button.disabled = false;
    }
  }

  function setup() {
    var box = document.getElementById("passkey-box");
    if (!box || !window.PublicKeyCredential || !navigator.credentials) return;
    box.hidden = false;
    var button = document.getElementById("passkey-signin");
    if (button) button.addEventListener("click", function () { signIn(box, button); });
    var form = document.getElementById("passkey-add");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        add(box, form);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();

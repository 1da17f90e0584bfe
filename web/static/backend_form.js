// The model settings page: a preset button fills in the kind, the server address and a hint
// of the model name. Without JavaScript the fields are simply typed in.
(function () {
  "use strict";
  function setup() {
    var form = document.getElementById("backend-form");
    var presets = document.getElementById("presets");
    if (!form || !presets) return;
    presets.hidden = false;
    presets.querySelectorAll("button.preset").forEach(function (button) {
      button.addEventListener("click", function () {
        var kind = form.querySelector("input[name=kind][value='" + button.dataset.kind + "']");
        if (kind) kind.checked = true;
        form.elements.base_url.value = button.dataset.baseUrl;
        form.elements.model.placeholder = button.dataset.modelHint;
        form.elements.model.focus();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();

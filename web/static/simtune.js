// Drag-and-drop and upload progress for the documents box. Plain JavaScript, no build step.
(function () {
  "use strict";
  function setup() {
    var form = document.getElementById("upload-form");
    if (!form) return;
    var input = form.querySelector("input[type=file]");
    var progress = document.getElementById("upload-progress");
    function send() {
      if (!input.files || input.files.length === 0) return;
      if (window.htmx) { htmx.trigger(form, "submit"); } else { form.submit(); }
    }
    input.addEventListener("change", send);
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        event.preventDefault();
        form.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        event.preventDefault();
        form.classList.remove("dragging");
      });
    });
    form.addEventListener("drop", function (event) {
      if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
      input.files = event.dataTransfer.files;
      send();
    });
    form.addEventListener("htmx:xhr:progress", function (event) {
      if (!event.detail.lengthComputable) return;
      progress.hidden = false;
      progress.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    });
    form.addEventListener("htmx:afterRequest", function () {
      progress.hidden = true;
      progress.value = 0;
      input.value = "";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();

// mssanted web app: progressive enhancement only. Every form works
// without this script; it shows the files chosen and their total size,
// blocks a message over the limits before it is uploaded, and keeps a
// slow send from being submitted twice.
(function () {
  "use strict";
  var MAX_FILES = 10, MAX_BYTES = 20 * 1000 * 1000;

  function size(n) {
    if (n < 1000) return n + " octets";
    if (n < 1000 * 1000) return Math.ceil(n / 1000) + " Ko";
    return (n / 1e6).toFixed(1).replace(".", ",") + " Mo";
  }

  function check(form) {
    var inputs = form.querySelectorAll('input[type="file"]');
    var count = 0, total = 0, i, j;
    for (i = 0; i < inputs.length; i++) {
      for (j = 0; j < inputs[i].files.length; j++) {
        count++;
        total += inputs[i].files[j].size;
      }
    }
    var msg = "", bad = false;
    if (count > MAX_FILES) {
      msg = count + " fichiers : joignez " + MAX_FILES + " fichiers au plus.";
      bad = true;
    } else if (total > MAX_BYTES) {
      msg = "Les fichiers pèsent " + size(total) + " : 20 Mo au plus.";
      bad = true;
    } else if (count > 0) {
      msg = count + (count > 1 ? " fichiers joints, " : " fichier joint, ") + size(total) + ".";
    }
    var status = form.querySelector(".files-status");
    if (status) {
      status.textContent = msg;
      status.classList.toggle("bad", bad);
    }
    for (i = 0; i < inputs.length; i++) {
      inputs[i].setCustomValidity(bad ? msg : "");
    }
    return !bad;
  }

  // The upload of a document: the same multipart form, posted with
  // XMLHttpRequest to show its progress; the server's answer (a redirect
  // to the list, or the page with the refusal) replaces the page.
  function upload(form) {
    var input = form.querySelector('input[type="file"]');
    var status = form.querySelector(".upload-status");
    var box = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    var button = form.querySelector('button[type="submit"]');
    form.addEventListener("change", function (e) {
      if (e.target !== input || !input.files.length) return;
      var f = input.files[0], max = 5 * 1024 * 1024;
      var msg = f.name + " : " + size(f.size) + ".", bad = false;
      if (f.size > max) {
        msg = "Le fichier dépasse 5 Mo : choisissez un fichier plus petit.";
        bad = true;
      }
      status.textContent = msg;
      status.classList.toggle("bad", bad);
      input.setCustomValidity(bad ? msg : "");
    });
    form.addEventListener("submit", function (e) {
      if (!window.FormData || !input.files.length) return;
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      box.hidden = false;
      bar.value = 0;
      button.disabled = true;
      status.classList.remove("bad");
      status.textContent = "Envoi en cours…";
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable) return;
        var pc = Math.round(ev.loaded * 100 / ev.total);
        bar.value = pc;
        bar.textContent = pc + " %";
        status.textContent = "Envoi en cours : " + pc + " %";
      });
      xhr.addEventListener("load", function () {
        bar.value = 100;
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
          status.textContent = "Document envoyé.";
          window.location.assign(xhr.responseURL);
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var err = doc.querySelector("main .error");
        fail(err ? err.textContent : "L'envoi a échoué (" + xhr.status + "). Réessayez.");
      });
      xhr.addEventListener("error", function () {
        fail("L'envoi a échoué : vérifiez votre connexion et réessayez.");
      });
      function fail(msg) {
        box.hidden = true;
        button.disabled = false;
        status.textContent = msg;
        status.classList.add("bad");
      }
      xhr.send(new FormData(form));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form.js-upload"), upload);
    var forms = document.querySelectorAll("form.js-files");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("change", function (e) {
        if (e.target.type === "file") check(form);
      });
      form.addEventListener("submit", function (e) {
        if (!check(form)) {
          e.preventDefault();
          return;
        }
        var b = form.querySelector('button[type="submit"]');
        if (b) {
          window.setTimeout(function () {
            b.disabled = true;
            b.textContent = "Envoi en cours…";
          }, 0);
        }
      });
    });
  });
})();

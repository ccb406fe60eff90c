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

  document.addEventListener("DOMContentLoaded", function () {
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

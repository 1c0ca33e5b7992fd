// Progressive enhancement of a form marked data-upload (sending a message); without
// this script the form posts as it is and the server does all the checking.
//
// * Photos are shrunk in the browser before they leave it: drawn on a canvas with a
//   long side of data-long-side pixels and encoded as JPEG. The canvas keeps pixels
//   only, so no EXIF (GPS position, camera serial) is sent; the server re-encodes
//   anyway. A file the browser cannot draw is sent as it is.
// * The form is sent with XMLHttpRequest: a progress bar shows the upload, the send
//   button stays locked until the answer. The request carries X-Aspirasi-Upload: 1,
//   so success answers {"location": …} and the page after shows its notice; an
//   answer with the form again (an error) replaces the page's <main>, the files
//   already prepared put back unless the error was about them.
// * The texts (not the files) are kept in localStorage under data-draft-key (one key
//   per account) until the message is sent, and restored when the form is opened
//   again empty: an expired session or form costs nothing.
(function () {
  "use strict";

  var FIELDS = ["subject", "body"];
  var CHECKS = ["confidential", "anonymous"];

  function store() {
    try {
      return window.localStorage;
    } catch (e) {
      return null; // storage switched off: no drafts
    }
  }

  function field(form, name) {
    return form.elements.namedItem(name);
  }

  // ------------------------------------------------------------------ the draft
  function readDraft(key) {
    var s = store();
    if (!s || !key) return null;
    try {
      return JSON.parse(s.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  function saveDraft(form, key) {
    var s = store();
    if (!s || !key) return;
    var draft = {}, empty = true;
    FIELDS.forEach(function (name) {
      var el = field(form, name);
      draft[name] = el ? el.value : "";
      if (draft[name].trim()) empty = false;
    });
    CHECKS.forEach(function (name) {
      var el = field(form, name);
      draft[name] = !!(el && el.checked);
    });
    try {
      if (empty) s.removeItem(key);
      else s.setItem(key, JSON.stringify(draft));
    } catch (e) {
      /* storage full: the form still works */
    }
  }

  function dropDraft(key) {
    var s = store();
    if (s && key) s.removeItem(key);
  }

  function restoreDraft(form, key) {
    var draft = readDraft(key);
    if (!draft) return;
    var filled = FIELDS.some(function (name) {
      var el = field(form, name);
      return el && el.value.trim();
    });
    if (filled) return; // the server showed the form with the texts sent
    FIELDS.forEach(function (name) {
      var el = field(form, name);
      if (el && typeof draft[name] === "string") el.value = draft[name];
    });
    CHECKS.forEach(function (name) {
      var el = field(form, name);
      if (el) el.checked = !!draft[name];
    });
    var notice = form.querySelector("[data-draft-notice]");
    if (notice) notice.hidden = false;
  }

  // ------------------------------------------------------------------ photos
  function jpegName(name) {
    var stem = (name || "foto").replace(/\.[^.]*$/, "");
    return (stem || "foto") + ".jpg";
  }

  // {blob, name} of one chosen file: photos redrawn smaller as JPEG.
  function shrink(file, longSide) {
    var same = Promise.resolve({ blob: file, name: file.name });
    if (!/^image\//.test(file.type) || !window.createImageBitmap || !window.HTMLCanvasElement) {
      return same;
    }
    return window
      .createImageBitmap(file, { imageOrientation: "from-image" })
      .then(function (bitmap) {
        var scale = Math.min(1, longSide / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        var ctx = canvas.getContext("2d");
        ctx.imageSmoothingEnabled = true;
        ctx.imageSmoothingQuality = "high";
        ctx.fillStyle = "#fff"; // transparent parts of a PNG become white, not black
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        if (bitmap.close) bitmap.close();
        return new Promise(function (resolve) {
          canvas.toBlob(
            function (blob) {
              canvas.width = canvas.height = 0; // frees the pixels at once on phones
              resolve(blob ? { blob: blob, name: jpegName(file.name) } : { blob: file, name: file.name });
            },
            "image/jpeg",
            0.85
          );
        });
      })
      .catch(function () {
        return { blob: file, name: file.name }; // not drawable here: the server decides
      });
  }

  // One after the other: a phone holds one decoded photo at a time.
  function shrinkAll(files, longSide) {
    var out = [];
    return files
      .reduce(function (chain, file) {
        return chain.then(function () {
          return shrink(file, longSide).then(function (done) {
            out.push(done);
          });
        });
      }, Promise.resolve())
      .then(function () {
        return out;
      });
  }

  // ------------------------------------------------------------------ sending
  // The files already prepared go back into the new form's field, unless the
  // answer was about them (where DataTransfer exists: every current browser).
  function reattach(form, parts) {
    var input = form.querySelector('input[type="file"]');
    if (!input || !parts.length || form.querySelector("#e-attachment") || !window.DataTransfer) return;
    try {
      var chosen = new DataTransfer();
      parts.forEach(function (part) {
        chosen.items.add(new File([part.blob], part.name, { type: part.blob.type }));
      });
      input.files = chosen.files;
    } catch (e) {
      /* the citizen chooses them again, as the hint says */
    }
  }

  function replaceMain(html, parts) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) return false;
    main.innerHTML = fresh.innerHTML;
    if (doc.title) document.title = doc.title;
    var token = doc.querySelector('meta[name="csrf-token"]');
    var mine = document.querySelector('meta[name="csrf-token"]');
    if (token && mine) mine.setAttribute("content", token.getAttribute("content"));
    var form = main.querySelector("form[data-upload]");
    if (form) {
      reattach(form, parts);
      enhance(form);
    }
    var alert = main.querySelector('[role="alert"], .error');
    main.focus();
    if (alert && alert.scrollIntoView) alert.scrollIntoView({ block: "center" });
    return true;
  }

  function enhance(form) {
    var key = form.getAttribute("data-draft-key");
    var maxFiles = parseInt(form.getAttribute("data-max-files"), 10) || 1;
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || Infinity;
    var longSide = parseInt(form.getAttribute("data-long-side"), 10) || 2000;
    var input = form.querySelector('input[type="file"]');
    var button = form.querySelector('button[type="submit"], button:not([type])');
    var progressBox = form.querySelector("[data-upload-progress]");
    var bar = progressBox && progressBox.querySelector("progress");
    var status = progressBox && progressBox.querySelector('[role="status"]');
    var percent = window.Intl ? new Intl.NumberFormat(document.documentElement.lang || undefined, { style: "percent" }) : null;
    var sending = false;

    // Any image the browser can draw becomes a JPEG before it is sent.
    if (input) input.setAttribute("accept", ".jpg,.jpeg,.pdf,image/*,application/pdf");

    // Too many files, or a PDF too large, is said at once, next to the field (photos
    // are shrunk, so their size is checked after that).
    function checkFiles() {
      var files = Array.prototype.slice.call(input.files || []);
      var text = "";
      var big = files.filter(function (f) { return !/^image\//.test(f.type) && f.size > maxBytes; })[0];
      if (files.length > maxFiles) text = form.getAttribute("data-msg-too-many");
      else if (big) text = form.getAttribute("data-msg-too-large").replace("{name}", big.name);
      input.setCustomValidity(text);
      if (text) input.reportValidity();
    }
    if (input) input.addEventListener("change", checkFiles);
    restoreDraft(form, key);
    form.addEventListener("input", function () { saveDraft(form, key); });
    form.addEventListener("change", function () { saveDraft(form, key); });
    var discard = form.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        dropDraft(key);
        FIELDS.forEach(function (name) { var el = field(form, name); if (el) el.value = ""; });
        CHECKS.forEach(function (name) { var el = field(form, name); if (el) el.checked = false; });
        discard.closest("[data-draft-notice]").hidden = true;
        var first = field(form, "subject");
        if (first) first.focus();
      });
    }

    function say(text, value) {
      if (!progressBox) return;
      progressBox.hidden = false;
      if (status) status.textContent = text;
      if (bar) {
        if (value == null) bar.removeAttribute("value");
        else bar.value = value;
      }
    }

    function lock(on) {
      sending = on;
      if (button) button.disabled = on;
      form.setAttribute("aria-busy", on ? "true" : "false");
    }

    function fail(text) {
      lock(false);
      if (progressBox) progressBox.hidden = true;
      var box = form.querySelector("[data-upload-error]");
      if (!box) {
        box = document.createElement("p");
        box.className = "notice error";
        box.setAttribute("role", "alert");
        box.setAttribute("data-upload-error", "");
        form.insertBefore(box, form.firstChild);
      }
      box.textContent = text;
      box.scrollIntoView && box.scrollIntoView({ block: "center" });
    }

    function post(parts) {
      var data = new FormData(form);
      data.delete("attachment");
      parts.forEach(function (part) { data.append("attachment", part.blob, part.name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Aspirasi-Upload", "1");
      xhr.upload.addEventListener("progress", function (event) {
        if (!event.lengthComputable) return;
        var share = event.loaded / event.total;
        say(form.getAttribute("data-msg-sending") + " " + (percent ? percent.format(share) : Math.round(share * 100) + "%"), Math.round(share * 100));
      });
      xhr.addEventListener("load", function () {
        var type = xhr.getResponseHeader("content-type") || "";
        if (xhr.status === 200 && type.indexOf("application/json") === 0) {
          var answer = JSON.parse(xhr.responseText);
          dropDraft(key);
          window.location.assign(answer.location);
          return;
        }
        var landed = xhr.responseURL ? new URL(xhr.responseURL) : null;
        if (xhr.status === 200 && landed && landed.pathname !== new URL(form.action).pathname) {
          window.location.assign(xhr.responseURL); // e.g. the log-in page: the draft waits
          return;
        }
        if (type.indexOf("text/html") === 0 && replaceMain(xhr.responseText, parts)) return;
        fail(form.getAttribute("data-msg-failed"));
      });
      xhr.addEventListener("error", function () { fail(form.getAttribute("data-msg-failed")); });
      xhr.addEventListener("abort", function () { fail(form.getAttribute("data-msg-failed")); });
      say(form.getAttribute("data-msg-sending"), 0);
      xhr.send(data);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) return;
      var files = input && input.files ? Array.prototype.slice.call(input.files) : [];
      if (files.length > maxFiles) {
        fail(form.getAttribute("data-msg-too-many"));
        return;
      }
      lock(true);
      saveDraft(form, key);
      if (files.length) say(form.getAttribute("data-msg-preparing"), null);
      shrinkAll(files, longSide).then(function (parts) {
        var big = parts.filter(function (part) { return part.blob.size > maxBytes; })[0];
        if (big) {
          fail(form.getAttribute("data-msg-too-large").replace("{name}", big.name));
          return;
        }
        post(parts);
      }, function () { fail(form.getAttribute("data-msg-failed")); });
    });
  }

  // Back to a page kept in the browser's cache after sending: unlock its button.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var form = document.querySelector("form[data-upload]");
    var button = form && form.querySelector('button[type="submit"]');
    if (button) button.disabled = false;
  });

  var form = document.querySelector("form[data-upload]");
  if (form && window.FormData && window.XMLHttpRequest && window.DOMParser) enhance(form);
})();

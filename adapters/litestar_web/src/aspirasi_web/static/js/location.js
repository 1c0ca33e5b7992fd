// The location part of the new-message form (templates/citizen/new_message.html).
//
// * The district list holds every district grouped by regency (so the form works
//   without JavaScript); here it is narrowed to the regency chosen, and a district
//   of another regency is cleared when the regency changes.
// * "Use my location" asks the browser for the phone's position
//   (navigator.geolocation; the page's Permissions-Policy allows it for this site
//   only) and fills in the coordinates, rounded to 6 decimals (about 10 cm). No map
//   and no tile is loaded: nothing leaves the browser but the form.
(function () {
  "use strict";

  function narrow(regency, district) {
    var chosen = regency.value;
    var groups = district.querySelectorAll("optgroup");
    for (var i = 0; i < groups.length; i++) {
      var group = groups[i];
      var shown = !chosen || group.getAttribute("data-regency-code") === chosen;
      group.hidden = !shown;
      group.disabled = !shown;
    }
    var selected = district.options[district.selectedIndex];
    if (selected && selected.parentNode.disabled) district.value = "";
  }

  function geolocate(box) {
    var button = box.querySelector("[data-geolocate]");
    var status = box.querySelector("[data-geolocate-status]");
    var lat = box.querySelector("[data-latitude]");
    var lon = box.querySelector("[data-longitude]");
    if (!button || !lat || !lon || !navigator.geolocation) return;
    box.querySelector("[data-geolocate-wrap]").hidden = false;
    button.addEventListener("click", function () {
      status.textContent = box.getAttribute("data-msg-locating");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
          status.textContent = box.getAttribute("data-msg-located");
          button.disabled = false;
        },
        function () {
          status.textContent = box.getAttribute("data-msg-denied");
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
      );
    });
  }

  var box = document.querySelector("[data-location]");
  if (!box) return;
  var regency = box.querySelector("[data-regency]");
  var district = box.querySelector("[data-district]");
  if (regency && district) {
    narrow(regency, district);
    regency.addEventListener("change", function () { narrow(regency, district); });
    district.addEventListener("change", function () {
      // A district chosen first names its regency.
      var selected = district.options[district.selectedIndex];
      var group = selected && selected.parentNode;
      if (!regency.value && group && group.getAttribute) {
        regency.value = group.getAttribute("data-regency-code") || "";
        narrow(regency, district);
      }
    });
  }
  geolocate(box);
})();

/* The address forms (a correction on the ticket page, a change notification on the member
   workspace): a postal code of seven digits fills the prefecture and the city from the server's
   table (/requests/postal-codes/<code>/), unless the operator typed something else there — a field
   still holding what the page showed, or what the script filled, is replaced. A file of its own:
   the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  function digits(value) {
    return value.normalize("NFKC").replace(/[^0-9]/g, "");
  }

  function wire(form) {
    var base = form.getAttribute("data-postal-lookup");
    var code = form.querySelector("[name='postal_code']");
    var prefecture = form.querySelector("[name='prefecture']");
    var city = form.querySelector("[name='city']");
    var status = form.querySelector("[data-postal-status]");
    var shown = { prefecture: prefecture.value, city: city.value };
    var filled = { prefecture: shown.prefecture, city: shown.city };
    var asked = "";

    function fill(field, key, value) {
      if (field.value === "" || field.value === shown[key] || field.value === filled[key]) {
        field.value = value;
        filled[key] = value;
      }
    }

    function lookUp() {
      var typed = digits(code.value);
      if (typed.length !== 7 || typed === asked) {
        return;
      }
      asked = typed;
      fetch(base + typed + "/", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { found: false };
        })
        .then(function (data) {
          if (typed !== digits(code.value)) {
            return; // typed on since
          }
          if (!data.found) {
            status.textContent = status.getAttribute("data-unknown");
            return;
          }
          fill(prefecture, "prefecture", data.prefecture);
          fill(city, "city", data.city);
          status.textContent = status.getAttribute("data-found") + " " + data.prefecture + data.city;
        })
        .catch(function () {
          asked = "";
        });
    }

    code.addEventListener("input", lookUp);
    code.addEventListener("change", lookUp);
  }

  document.querySelectorAll("form[data-postal-lookup]").forEach(wire);
})();

// 会員一覧: the header checkbox selects or clears every member on the page for the CSV export.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const all = document.getElementById("member-select-all");
  if (!all) {
    return;
  }
  const boxes = document.querySelectorAll("input.member-select");
  all.addEventListener("change", function () {
    boxes.forEach(function (box) {
      box.checked = all.checked;
    });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    });
  });
});

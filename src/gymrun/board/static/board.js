// Picking groups on a comparison page: unticked groups' rows and columns are hidden.
// Everything else on the board is plain HTML and works without this script.
for (const box of document.querySelectorAll("input[data-pick]")) {
  box.addEventListener("change", () => {
    for (const cell of document.querySelectorAll(`[data-group="${box.dataset.pick}"]`)) {
      cell.hidden = !box.checked;
    }
  });
}

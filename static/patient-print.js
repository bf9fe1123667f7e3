// The card's Print button: the print style sheet shows the card alone.
document.getElementById("print-card").addEventListener("click", () => window.print());

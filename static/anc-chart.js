// Draws the ANC trend with Chart.js: points over the current treatment episode, the category
// bands behind them, today and the next due date (the x-axis always reaches both). Date labels
// are spaced by whole days chosen for the chart's width, so they never overlap. Data comes
// from a JSON block the server escaped.
(function () {
  "use strict";
  var source = document.getElementById("anc-chart-data");
  var canvas = document.getElementById("anc-chart");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var DAY = 86400000;
  function day(iso) { return Date.parse(iso + "T00:00:00Z") / DAY; }
  function label(value) { return new Date(value * DAY).toISOString().slice(0, 10); }
  var colours = {
    "normal": "rgba(27,110,58,0.10)", "ben-normal": "rgba(27,110,58,0.10)",
    "mild": "rgba(138,90,0,0.10)", "moderate": "rgba(163,25,25,0.10)",
    "ben-neutropenia": "rgba(163,25,25,0.10)", "severe": "rgba(163,25,25,0.22)",
    "ben-severe": "rgba(163,25,25,0.22)"
  };
  var values = data.points.map(function (p) { return p.value; });
  // A round top a little above the highest value, so the axis reads in whole cells/µL.
  var top = Math.ceil(Math.max(3000, Math.max.apply(null, values) * 1.1) / 500) * 500;
  var annotations = {};
  data.bands.forEach(function (band, i) {
    annotations["band" + i] = {
      type: "box", yMin: band.from, yMax: band.to === null ? top : band.to,
      backgroundColor: colours[band.category] || "rgba(0,0,0,0.05)", borderWidth: 0,
      label: { display: true, content: band.label || band.category, position: "start",
               color: "#555", font: { size: 10 } }
    };
  });
  if (data.due) {
    annotations.due = {
      type: "line", xMin: day(data.due), xMax: day(data.due), borderColor: "#1d1d1d",
      borderDash: [4, 4], borderWidth: 1,
      label: { display: true, content: "next ANC due " + data.due, position: "start",
               font: { size: 10 } }
    };
  }
  var today = day(data.as_of);
  annotations.today = {
    type: "line", xMin: today, xMax: today, borderColor: "#1b6e3a", borderWidth: 1,
    label: { display: true, content: "today", position: "end", font: { size: 10 } }
  };
  var xs = data.points.map(function (p) { return day(p.date); });
  xs.push(today);
  if (data.due) { xs.push(day(data.due)); }
  var xMin = Math.min.apply(null, xs) - 2;
  var xMax = Math.max.apply(null, xs) + 2;
  // Room for one "YYYY-MM-DD" label per LABEL_PX: the step is the smallest calendar-like
  // number of days that keeps labels at least that far apart at this width.
  var LABEL_PX = 84;
  var STEPS = [1, 2, 7, 14, 28, 56, 91, 182, 364, 728];
  function stepFor(width) {
    var fit = Math.max(1, Math.floor(width / LABEL_PX) - 1);
    var wanted = (xMax - xMin) / fit;
    for (var i = 0; i < STEPS.length; i += 1) { if (STEPS[i] >= wanted) { return STEPS[i]; } }
    return Math.ceil(wanted / 364) * 364;
  }
  new Chart(canvas, {
    type: "line",
    data: { datasets: [{
      label: "ANC (cells/µL)",
      data: data.points.map(function (p) { return { x: day(p.date), y: p.value }; }),
      borderColor: "#1d1d1d", backgroundColor: "#1d1d1d", pointRadius: 3,
      pointStyle: data.points.map(function (p) { return p.derived ? "triangle" : "circle"; })
    }] },
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      scales: {
        x: { type: "linear", min: xMin, max: xMax,
             afterBuildTicks: function (scale) {
               var step = stepFor(scale.width || canvas.clientWidth);
               var first = Math.ceil(xMin / step) * step;
               var ticks = [];
               for (var v = first; v <= xMax; v += step) { ticks.push({ value: v }); }
               scale.ticks = ticks;
             },
             ticks: { callback: label, maxRotation: 0, autoSkip: true, autoSkipPadding: 12,
                      font: { size: 11 } } },
        y: { min: 0, max: top, title: { display: true, text: "cells/µL" } }
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { title: function (items) { return label(items[0].parsed.x); } } },
        annotation: { annotations: annotations }
      }
    }
  });
}());

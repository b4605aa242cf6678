# Learning curves, one line per run.
# Given: fig_title, x_label, y_label, n_runs, labels[n_runs], $curves (run i is
# `index i-1`, columns: x, value[, moving average]), smoothed (1: column 3 is a moving
# average drawn bold over the faint raw values), log_y, x_min, x_max, y_min, y_max (of the
# data as drawn), per_epoch, percent.
set title fig_title
set xlabel x_label
set ylabel y_label
set key outside right top vertical Left reverse samplen 2.5 width 1
set xrange [0:*]
# Headroom so lines do not sit on the frame (not on log axes: there autoscale already
# extends to whole decades).
if (!log_y) { set offsets 0, 0, graph 0.03, graph 0.03 }
# Accuracy: autoscale, but never beyond 0..100 %.
if (percent) { set yrange [0 < * : * < 100] }
if (log_y) { set logscale y; set mytics 10 } else { set mytics 2 }
if (per_epoch && x_max <= 30) { set xtics 1; set mxtics 1 } else { set mxtics 2 }
if (per_epoch) { set xrange [*:*] }
# A single point or a flat line: give the axes a span instead of gnuplot's warning.
if (x_min == x_max) { set xrange [x_min - 1 : x_max + 1] }
if (y_min == y_max) { set yrange [y_min - 0.5 - 0.05 * abs(y_min) : y_max + 0.5 + 0.05 * abs(y_max)] }

if (smoothed) {
  set label 1 'faint: value of each logged batch; bold: moving average (1/40 of the run)' \
      at screen 0.01, screen 0.025 left font ',9' textcolor rgb '#666666'
  set bmargin 4.5
  plot for [i=1:n_runs] $curves index (i-1) using 1:2 with lines lw 1 lc rgb faint(i) notitle, \
       for [i=1:n_runs] $curves index (i-1) using 1:3 with lines lt i lw 2.5 dt dash(i) \
           title labels[i]
} else {
  if (per_epoch) {
    plot for [i=1:n_runs] $curves index (i-1) using 1:2 with linespoints lt i lw 2 dt dash(i) \
             title labels[i]
  } else {
    plot for [i=1:n_runs] $curves index (i-1) using 1:2 with lines lt i lw 2 dt dash(i) \
             title labels[i]
  }
}

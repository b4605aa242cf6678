# Wall time of training against batch size.
# Given: fig_title, n_groups, labels[n_groups] (other varied values; '' when only the batch
# size varies), $points (group g is `index g-1`, columns: batch, seconds, samples/s),
# log_y (wall times span more than a factor 10).
set title fig_title
set xlabel 'batch size (samples per step, log2 axis)'
set ylabel sprintf('wall time of training (s%s)', log_y ? ', log axis' : '')
set logscale x 2
set offsets graph 0.06, graph 0.06, 0, 0
set mxtics 1
if (log_y) { set logscale y; set mytics 10 } else { set yrange [0:*] }

if (n_groups == 1) {
  # One line: label each point with its time and throughput instead of a legend.
  unset key
  set offsets graph 0.06, graph 0.16, graph 0.12, 0
  plot $points using 1:2:xtic(sprintf('%g', $1)) with linespoints lt 1 lw 2.5 ps 1.3, \
       '' using 1:2:(fmt_time($2) . (valid(3) ? "\n" . fmt_count($3) . ' samples/s' : '')) \
           with labels left offset 1.2, 1.4 font ',10' textcolor rgb '#333333'
} else {
  set key top right Left reverse samplen 2.5 box lc rgb '#CCCCCC' opaque noenhanced
  plot for [g=1:n_groups] $points index (g-1) using 1:2:xtic(sprintf('%g', $1)) \
           with linespoints lt g lw 2.5 ps 1.2 title labels[g]
}

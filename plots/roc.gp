# One-vs-rest ROC curves, as the hls4ml JSC paper draws them: signal efficiency (true
# positive rate) on x, background efficiency (false positive rate, the mistag rate) on a
# log y axis, one curve per class, the AUC in the legend.
# Given: fig_title, n_classes, labels[n_classes] ("g (AUC 0.912)"), y_min (smallest
# positive background efficiency drawn), $curves (class i is `index i-1`, columns:
# signal efficiency, background efficiency; zero background efficiency is left out).
set title fig_title
set xlabel 'signal efficiency (true positive rate)'
set ylabel 'background efficiency (false positive rate)'
set logscale y
set mytics 10
set format y '10^{%L}'
set xrange [0:1]
set yrange [y_min:1]
set xtics 0.1
set key inside left top Left reverse samplen 2.5 box lc rgb '#CCCCCC'
plot for [i=1:n_classes] $curves index (i-1) using 1:2 with lines lt i lw 2 title labels[i]

# Confusion-matrix heat map: colour = share of the true class (row percent, i.e. recall
# on the diagonal); each cell shows its count and that percent.
# Given: fig_title, n_classes, true_names[n], pred_names[n], $cells (columns: predicted
# index, true index, count, percent of the true class; indices from 0).
set title fig_title
set xlabel 'predicted class'
set ylabel 'true class' offset -1.5, 0
set size ratio -1
set xrange [-0.5 : n_classes - 0.5]
set yrange [n_classes - 0.5 : -0.5]
set xtics () noenhanced scale 0
set ytics () noenhanced scale 0
do for [i=1:n_classes] {
  set xtics add (pred_names[i] i - 1)
  set ytics add (true_names[i] i - 1)
}
unset grid
set border 0
set cbrange [0:100]
set cblabel 'share of the true class (%)'
set cbtics 20
set palette defined (0 '#FFFFFF', 15 '#DEEBF7', 40 '#9ECAE1', 70 '#3182BD', 100 '#08306B')
unset key
plot $cells using 1:2:4 with image, \
     '' using 1:2:(sprintf("%d\n%.1f%%", $3, $4)):($4 > 55 ? 0xFFFFFF : 0x222222) \
         with labels tc rgb variable font ',10'

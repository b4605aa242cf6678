# Device comparison: throughput and epoch time as horizontal bars, one per device.
# Given: fig_title, footnote ('' for none), n_devices, devices[n_devices],
# notes[n_devices] (e.g. 'final val acc 71.20%', may be ''), name_chars (longest device
# name), rate_unit, rate_log, rate_base, rate_top, time_log, time_base, time_top (log
# axis from *_base to *_top), $bars (columns: device number from 1, samples/s in rate_unit, samples/s,
# seconds per epoch).
# Device names are labels, not tic labels: gnuplot cuts long tic labels.
left = (name_chars * 7.6 + 30) / 1100.0
left = left < 0.18 ? 0.18 : left > 0.5 ? 0.5 : left
set multiplot layout 2, 1 title fig_title font ',13' margins left, 0.93, 0.12, 0.88 spacing 0, 0.14
set yrange [n_devices + 0.6 : 0.4]
unset ytics
set border 1
set grid noytics xtics mxtics
set style fill solid 0.85 noborder
unset key
do for [i=1:n_devices] {
  set label 10 + i devices[i] at graph 0, first i right offset -1, 0.45 noenhanced font ',11'
  set label 40 + i notes[i] at graph 0, first i right offset -1, -0.6 noenhanced font ',9' \
      textcolor rgb '#555555'
}

set title sprintf('throughput (%s%s, higher is better)', rate_unit, rate_log ? ', log axis' : '') \
    font ',11'
if (rate_log) { set logscale x; set xrange [rate_base:rate_top]; set offsets 0, 0, 0, 0 } \
else { set xrange [0:*]; set offsets 0, graph 0.18, 0, 0 }
lo = rate_log ? rate_base : 0
plot $bars using (lo):1:(lo):2:($1 - 0.32):($1 + 0.32):1 with boxxyerror lc variable, \
     '' using 2:1:(' ' . fmt_count($3) . '/s') with labels left font ',10'

unset logscale x
set title sprintf('time per epoch (s%s, lower is better)', time_log ? ', log axis' : '') font ',11'
if (time_log) { set logscale x; set xrange [time_base:time_top]; set offsets 0, 0, 0, 0 } \
else { set xrange [0:*]; set offsets 0, graph 0.18, 0, 0 }
lo = time_log ? time_base : 0
if (strlen(footnote)) {
  set label 1 footnote at screen 0.01, screen 0.02 left font ',9' textcolor rgb '#666666'
}
plot $bars using (lo):1:(lo):4:($1 - 0.32):($1 + 0.32):1 with boxxyerror lc variable, \
     '' using 4:1:(' ' . fmt_time($4)) with labels left font ',10'
unset multiplot

# Shared look of every cltrain figure, loaded before the figure's own script.
# cltrain sets the terminal and output; scripts only describe the plot.

# Tableau-10 colours: distinct for up to ten runs, then they repeat with dashes.
array palette[10] = ['#4E79A7', '#F28E2B', '#E15759', '#59A14F', '#B07AA1', \
                     '#76B7B2', '#EDC948', '#9C755F', '#FF9DA7', '#7F7F7F']
do for [i=1:10] {
  set linetype i lc rgb palette[i] lw 2 pt 7 ps 0.7 dt solid
}
set linetype cycle 10
color(i) = palette[1 + (i - 1) % 10]
# The same colour, mostly transparent (gnuplot reads #AARRGGBB, AA = transparency).
faint(i) = '#B0' . color(i)[2:]
dash(i) = 1 + ((i - 1) / 10) % 5

set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.6 textcolor rgb '#222222'
set grid xtics ytics mxtics mytics lw 1 lc rgb '#E6E6E6', lw 0.5 lc rgb '#F2F2F2'
set key noenhanced textcolor rgb '#222222' spacing 1.15
set title font ',13' noenhanced

# Seconds as a short readable duration.
fmt_time(s) = s < 120 ? sprintf('%.3g s', s) : s < 7200 ? sprintf('%.3g min', s / 60) \
            : sprintf('%.3g h', s / 3600)
# Large counts in short form: 950, 12.3k, 4.56M.
fmt_count(v) = v < 1e4 ? sprintf('%.0f', v) : v < 1e6 ? sprintf('%.3gk', v / 1e3) \
             : sprintf('%.3gM', v / 1e6)

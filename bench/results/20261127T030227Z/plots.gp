set terminal pngcairo size 1100,500 noenhanced
set grid
set key left top
set logscale x 2
set output 'reads-macronode-head.png'
set multiplot layout 1,2 title 'macronode: GET head, svc-registry beside nginx (same bytes, same pinning)'
set xlabel 'connections (wrk -t1)'
set ylabel 'requests/s'
plot 'reads-macronode-head.dat' using 1:2 with linespoints title 'svc-registry', 'reads-macronode-head.dat' using 1:3 with linespoints title 'nginx'
set ylabel 'p99 latency (ms)'
plot 'reads-macronode-head.dat' using 1:4 with linespoints title 'svc-registry', 'reads-macronode-head.dat' using 1:5 with linespoints title 'nginx'
unset multiplot
set output 'reads-macronode-v1k.png'
set multiplot layout 1,2 title 'macronode: GET v1k, svc-registry beside nginx (same bytes, same pinning)'
set xlabel 'connections (wrk -t1)'
set ylabel 'requests/s'
plot 'reads-macronode-v1k.dat' using 1:2 with linespoints title 'svc-registry', 'reads-macronode-v1k.dat' using 1:3 with linespoints title 'nginx'
set ylabel 'p99 latency (ms)'
plot 'reads-macronode-v1k.dat' using 1:4 with linespoints title 'svc-registry', 'reads-macronode-v1k.dat' using 1:5 with linespoints title 'nginx'
unset multiplot
set output 'reads-macronode-v64k.png'
set multiplot layout 1,2 title 'macronode: GET v64k, svc-registry beside nginx (same bytes, same pinning)'
set xlabel 'connections (wrk -t1)'
set ylabel 'requests/s'
plot 'reads-macronode-v64k.dat' using 1:2 with linespoints title 'svc-registry', 'reads-macronode-v64k.dat' using 1:3 with linespoints title 'nginx'
set ylabel 'p99 latency (ms)'
plot 'reads-macronode-v64k.dat' using 1:4 with linespoints title 'svc-registry', 'reads-macronode-v64k.dat' using 1:5 with linespoints title 'nginx'
unset multiplot
set output 'reads-micronode-head.png'
set multiplot layout 1,2 title 'micronode: GET head, svc-registry beside nginx (same bytes, same pinning)'
set xlabel 'connections (wrk -t1)'
set ylabel 'requests/s'
plot 'reads-micronode-head.dat' using 1:2 with linespoints title 'svc-registry', 'reads-micronode-head.dat' using 1:3 with linespoints title 'nginx'
set ylabel 'p99 latency (ms)'
plot 'reads-micronode-head.dat' using 1:4 with linespoints title 'svc-registry', 'reads-micronode-head.dat' using 1:5 with linespoints title 'nginx'
unset multiplot
set output 'reads-micronode-v1k.png'
set multiplot layout 1,2 title 'micronode: GET v1k, svc-registry beside nginx (same bytes, same pinning)'
set xlabel 'connections (wrk -t1)'
set ylabel 'requests/s'
plot 'reads-micronode-v1k.dat' using 1:2 with linespoints title 'svc-registry', 'reads-micronode-v1k.dat' using 1:3 with linespoints title 'nginx'
set ylabel 'p99 latency (ms)'
plot 'reads-micronode-v1k.dat' using 1:4 with linespoints title 'svc-registry', 'reads-micronode-v1k.dat' using 1:5 with linespoints title 'nginx'
unset multiplot
set output 'reads-micronode-v64k.png'
set multiplot layout 1,2 title 'micronode: GET v64k, svc-registry beside nginx (same bytes, same pinning)'
set xlabel 'connections (wrk -t1)'
set ylabel 'requests/s'
plot 'reads-micronode-v64k.dat' using 1:2 with linespoints title 'svc-registry', 'reads-micronode-v64k.dat' using 1:3 with linespoints title 'nginx'
set ylabel 'p99 latency (ms)'
plot 'reads-micronode-v64k.dat' using 1:4 with linespoints title 'svc-registry', 'reads-micronode-v64k.dat' using 1:5 with linespoints title 'nginx'
unset multiplot
unset logscale x
set output 'commits.png'
set title 'Commit request -> 201 latency against offered cycle rate'
set xlabel 'offered full cycles/s (last point: flat out, at its achieved rate)'
set ylabel 'ms'
set logscale y
set key outside right top
plot 'commits-macronode.dat' using 1:2 with linespoints title 'macronode commit p50', 'commits-macronode.dat' using 1:4 with linespoints title 'macronode commit p99', 'commits-macronode.dat' using 1:5 with linespoints title 'macronode full cycle p99', 'commits-micronode.dat' using 1:2 with linespoints title 'micronode commit p50', 'commits-micronode.dat' using 1:4 with linespoints title 'micronode commit p99', 'commits-micronode.dat' using 1:5 with linespoints title 'micronode full cycle p99'

#!/usr/bin/env python3
"""Builds report.json, the gnuplot data files and plots.gp from a scripts/perf.sh run.

    python3 bench/perf/make_report.py OUT_DIR

Reads OUT_DIR/meta.json and OUT_DIR/raw/ (micro.json from Google Benchmark, and per profile
the wrk/loadgen results), writes OUT_DIR/report.json, OUT_DIR/*.dat and OUT_DIR/plots.gp
(run `gnuplot plots.gp` in OUT_DIR for the PNGs). Read points are the median over the runs.

report.json["profiles"][P]["tracked"] holds the figures the regression gate compares
(scripts/perf-compare.py): each {"value", "better": "lower"|"higher", "margin", "what"}.
Read figures are ratios to nginx measured in the same run; the others are absolute.
Python 3.11 standard library only.
"""
import glob
import json
import os
import re
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def median_point(files):
    """Median rps and latency percentiles (ms) over the wrk runs of one point."""
    runs = [load(f) for f in files]
    if not runs:
        return None

    def med(get):
        return statistics.median(get(r) for r in runs)

    return {
        "runs": len(runs),
        "rps": med(lambda r: r["rps"]),
        "p50_ms": med(lambda r: r["latency_us"]["p50"]) / 1000,
        "p95_ms": med(lambda r: r["latency_us"]["p95"]) / 1000,
        "p99_ms": med(lambda r: r["latency_us"]["p99"]) / 1000,
        "errors": sum(sum(r["errors"].values()) for r in runs),
        "rps_runs": [r["rps"] for r in runs],
    }


def micro_summary(path):
    if not os.path.exists(path):
        return {}
    doc = load(path)
    out = {}
    for b in doc.get("benchmarks", []):
        entry = {k: b[k] for k in ("real_time", "cpu_time", "time_unit") if k in b}
        for k in ("items_per_second", "bytes_per_second", "record_bytes", "ns_per_subscriber",
                  "label"):
            if k in b:
                entry[k] = b[k]
        out[b["name"]] = entry
    derived = {}
    slope = out.get("BM_CanonicalizeHashSlope_BigO")
    if slope:
        derived["canonicalize_hash_ns_per_byte"] = slope.get("cpu_coefficient")
    svc = out.get("BM_ApprovalVerifyService")
    raw = out.get("BM_ApprovalVerifyRaw")
    if svc and raw:
        derived["approval_verify_service_us"] = svc["cpu_time"] / 1000
        derived["approval_verify_raw_us"] = raw["cpu_time"] / 1000
        derived["approval_verify_service_over_raw"] = svc["cpu_time"] / raw["cpu_time"]
    dec = out.get("BM_ApprovalDecodeVerify")
    if dec and raw:
        derived["approval_decode_verify_over_raw"] = dec["cpu_time"] / raw["cpu_time"]
    return {"benchmarks": out, "derived": derived, "context": doc.get("context", {})}


def profile_report(pdir):
    rep = {}
    records = os.path.join(pdir, "records.json")
    if os.path.exists(records):
        rep["records"] = load(records)
    # Reads: per path and concurrency, ours beside nginx.
    reads = {}
    for f in glob.glob(os.path.join(pdir, "wrk-*-ours-c*-r*.json")):
        m = re.search(r"wrk-(\w+)-ours-c(\d+)-r\d+\.json$", f)
        reads.setdefault(m.group(1), set()).add(int(m.group(2)))
    rep["reads"] = {}
    for path, concs in sorted(reads.items()):
        rows = {}
        for c in sorted(concs):
            ours = median_point(glob.glob(os.path.join(pdir, f"wrk-{path}-ours-c{c}-r*.json")))
            ref = median_point(glob.glob(os.path.join(pdir, f"wrk-{path}-nginx-c{c}-r*.json")))
            row = {"ours": ours, "nginx": ref}
            if ours and ref and ref["rps"] > 0:
                row["rps_ratio"] = ours["rps"] / ref["rps"]
                row["p95_ratio"] = ours["p95_ms"] / ref["p95_ms"] if ref["p95_ms"] else None
                row["p99_ratio"] = ours["p99_ms"] / ref["p99_ms"] if ref["p99_ms"] else None
            rows[f"c{c}"] = row
        rep["reads"][path] = rows
    for name in ("steady-ours", "steady-nginx", "overload", "overload-setup"):
        f = os.path.join(pdir, name + ".json")
        if os.path.exists(f):
            rep[name.replace("-", "_")] = load(f)
    rep["cold_start_ms"] = [load(f)["ready_ms"] for f in sorted(glob.glob(
        os.path.join(pdir, "coldstart-[0-9]*.json")))]
    if rep["cold_start_ms"]:
        rep["cold_start_ms_median"] = statistics.median(rep["cold_start_ms"])
    # Per rate, the run of median commit p99 (flat out: of median cycles/s), with every run's
    # figure (runs: cycles-R-rN.json; a single cycles-R.json from older reports is one run).
    cycle_runs = {}
    for f in glob.glob(os.path.join(pdir, "cycles-*.json")):
        rate = re.search(r"cycles-(\d+)(?:-r\d+)?\.json$", f).group(1)
        cycle_runs.setdefault("flat_out" if rate == "0" else rate, []).append(load(f))
    rep["commits"] = {}
    for rate, rs in cycle_runs.items():
        if rate == "flat_out":
            rs.sort(key=lambda r: r["cycles_per_s"])
            figures = [r["cycles_per_s"] for r in rs]
        else:
            rs.sort(key=lambda r: r["commit"]["p99_ms"])
            figures = [r["commit"]["p99_ms"] for r in rs]
        median = dict(rs[(len(rs) - 1) // 2])
        median["runs"] = figures
        rep["commits"][rate] = median
    # Per subscriber count, the run of median first-byte p99 (runs: stream-K-rN.json; a
    # single stream-K.json from older reports counts as one run), with every run's p99.
    runs = {}
    for f in glob.glob(os.path.join(pdir, "stream-*.json")):
        k = re.search(r"stream-(\d+)(?:-r\d+)?\.json$", f).group(1)
        runs.setdefault(k, []).append(load(f))
    rep["stream"] = {}
    for k, rs in runs.items():
        rs.sort(key=lambda r: r["first_byte"]["p99_ms"])
        median = dict(rs[(len(rs) - 1) // 2])
        median["first_byte_p99_ms_runs"] = [r["first_byte"]["p99_ms"] for r in rs]
        rep["stream"][k] = median
    peak = os.path.join(pdir, "peak_rss_kib")
    if os.path.exists(peak):
        rep["peak_rss_mib"] = int(open(peak).read().strip() or 0) / 1024
    rep["tracked"] = tracked(rep)
    return rep


def tracked(rep):
    """The figures of the regression gate (PERFORMANCE.md §5, issue 6)."""
    t = {}

    def add(name, value, better, margin, what):
        if value is not None:
            t[name] = {"value": value, "better": better, "margin": margin, "what": what}

    reads = rep.get("reads", {})
    for path in ("head", "v64k", "v1k"):
        rows = reads.get(path, {})
        if not rows:
            continue
        # The highest concurrency measured up to 64 (the goals are stated at -c64).
        cs = sorted(int(c[1:]) for c in rows)
        c = max([x for x in cs if x <= 64] or cs)
        row = rows[f"c{c}"]
        add(f"read_{path}_c{c}_p95_vs_nginx", row.get("p95_ratio"), "lower", 0.10,
            f"GET {path} p95 at -c{c}, ours / nginx")
        add(f"read_{path}_c{c}_rps_vs_nginx", row.get("rps_ratio"), "higher", 0.10,
            f"GET {path} requests/s at -c{c}, ours / nginx")
    commits = rep.get("commits", {})
    for rate in ("5", "50", "100"):
        if rate in commits:
            add(f"commit_p95_ms_at_{rate}", commits[rate]["commit"].get("p95_ms"), "lower", 0.10,
                f"POST commit p95 (ms) at {rate} cycles/s")
    if "flat_out" in commits:
        add("cycles_per_s_flat_out", commits["flat_out"]["cycles_per_s"], "higher", 0.10,
            "full cycles per second, flat out")
    steady = rep.get("steady_ours", {})
    add("cpu_core_fraction_at_2500rps", steady.get("server_cpu_core_fraction"), "lower", 0.15,
        "server CPU (fraction of one core) at 2,500 RPS of HEAD")
    add("rss_mib_at_2500rps", steady.get("server_rss_mib"), "lower", 0.15,
        "server RSS (MiB) at 2,500 RPS of HEAD")
    stream = rep.get("stream", {})
    if stream:
        k = max(stream, key=int)
        add(f"rss_mib_with_{k}_subscribers", stream[k].get("server_rss_mib"), "lower", 0.15,
            f"server RSS (MiB) with {k} SSE subscribers")
    return t


def goals(report):
    """Issue 6's goals, each with the measured figure and the in-run reference beside it."""
    rows = []

    def add(goal, profile, figure, reference, ok, unit=""):
        rows.append({"goal": goal, "profile": profile, "figure": figure,
                     "reference": reference, "met": ok, "unit": unit})

    for prof, rep in report["profiles"].items():
        reads = rep.get("reads", {})
        head = reads.get("head", {}).get("c64")
        if head and head.get("nginx"):
            r = head["rps_ratio"]
            add("GET /registry/head -c64 requests/s >= 0.9 x nginx", prof,
                f"{head['ours']['rps']:.0f}/s ({r:.2f} x)", f"nginx {head['nginx']['rps']:.0f}/s",
                r >= 0.9)
            r = head["p99_ratio"]
            add("GET /registry/head -c64 p99 <= 1.5 x nginx", prof,
                f"{head['ours']['p99_ms']:.2f} ms ({r:.2f} x)",
                f"nginx {head['nginx']['p99_ms']:.2f} ms", r <= 1.5)
        big = reads.get("v64k", {}).get("c64")
        if big and big.get("nginx"):
            r = big["rps_ratio"]
            add("GET /registry/{v} 64 KiB -c64 >= 0.8 x nginx", prof,
                f"{big['ours']['rps']:.0f}/s ({r:.2f} x)", f"nginx {big['nginx']['rps']:.0f}/s",
                r >= 0.8)
        commits = rep.get("commits", {})
        fs_ref = "-"
        if "100" in commits:
            c = commits["100"]
            runs = ", ".join(f"{x:.2f}" for x in c.get("runs", []))
            add("commit -> 201 p99 <= 5 ms at 100 cycles/s", prof,
                f"{c['commit']['p99_ms']:.2f} ms (median run; p50 {c['commit']['p50_ms']:.2f}; "
                f"achieved {c['cycles_per_s']:.0f} cycles/s; runs {runs})", fs_ref,
                c["commit"]["p99_ms"] <= 5)
        if "flat_out" in commits:
            c = commits["flat_out"]
            runs = ", ".join(f"{x:.0f}" for x in c.get("runs", []))
            add("flat out >= 300 full cycles/s", prof,
                f"{c['cycles_per_s']:.0f} cycles/s (median run; runs {runs})", fs_ref,
                c["cycles_per_s"] >= 300)
        for k, st in sorted(rep.get("stream", {}).items(), key=lambda kv: int(kv[0])):
            if int(k) == 1000:
                runs = ", ".join(f"{x:.2f}" for x in st.get("first_byte_p99_ms_runs", []))
                add("commit -> first SSE byte p99 <= 10 ms, 1,000 subscribers", prof,
                    f"{st['first_byte']['p99_ms']:.2f} ms (median run; p50 "
                    f"{st['first_byte']['p50_ms']:.2f}; runs {runs})",
                    "-", st["first_byte"]["p99_ms"] <= 10)
            if int(k) == 10000:
                add("10,000 subscribers in <= 256 MiB RSS", prof,
                    f"{st.get('server_rss_mib', float('nan')):.1f} MiB "
                    f"(first byte p99 {st['first_byte']['p99_ms']:.1f} ms)",
                    "-", st.get("server_rss_mib", 1e9) <= 256)
        if rep.get("cold_start_ms"):
            m = rep["cold_start_ms_median"]
            add("cold start -> /readyz <= 50 ms (empty)", prof, f"{m:.1f} ms (median)", "-",
                m <= 50)
        so, sn = rep.get("steady_ours", {}), rep.get("steady_nginx", {})
        if "server_cpu_core_fraction" in so:
            add("CPU < 10% of a core at 2,500 RPS HEAD", prof,
                f"{100 * so['server_cpu_core_fraction']:.1f}% "
                f"({so['rps_achieved']:.0f} RPS, p99 {so['latency']['p99_ms']:.2f} ms)",
                f"nginx {100 * sn.get('server_cpu_core_fraction', float('nan')):.1f}%",
                so["server_cpu_core_fraction"] < 0.10)
            add("RSS < 64 MiB at 2,500 RPS HEAD", prof, f"{so['server_rss_mib']:.1f} MiB",
                f"nginx worker {sn.get('server_rss_mib', float('nan')):.1f} MiB",
                so["server_rss_mib"] < 64)
        ov = rep.get("overload")
        if ov:
            bad = {s: n for s, n in ov["statuses"].items() if s not in ("200", "429")}
            cap = rep.get("overload_setup", {}).get("limits_rps", "?")
            add("overload 3 x admitted capacity: only 429s beyond it", prof,
                f"limits.rps {cap}, offered {ov['rps_target']:.0f}/s, "
                f"sent {ov.get('sent_rps', 0):.0f}/s, "
                f"statuses {ov['statuses']}, errors {ov['errors']}, admitted p99 "
                f"{ov['admitted_latency'].get('p99_ms', float('nan')):.2f} ms", "-",
                not bad and ov["errors"] == 0 and ov["statuses"].get("429", 0) > 0)
    d = report.get("micro", {}).get("derived", {})
    if "approval_verify_service_over_raw" in d:
        r = d["approval_verify_service_over_raw"]
        add("approval verify in the service <= 1.2 x raw libsodium", "micro",
            f"{d['approval_verify_service_us']:.1f} us ({r:.2f} x)",
            f"raw {d['approval_verify_raw_us']:.1f} us", r <= 1.2)
    return rows


def goals_markdown(rows):
    lines = ["| goal | profile | measured | reference | met |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['goal']} | {r['profile']} | {r['figure']} | {r['reference']} | "
                     f"{'yes' if r['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def write_plots(out, report):
    gp = ["set terminal pngcairo size 1100,500 noenhanced", "set grid", "set key left top", "set logscale x 2"]
    for prof, rep in report["profiles"].items():
        for path, rows in rep.get("reads", {}).items():
            dat = f"reads-{prof}-{path}.dat"
            with open(os.path.join(out, dat), "w") as f:
                f.write("# conc ours_rps nginx_rps ours_p99_ms nginx_p99_ms\n")
                for c in sorted(rows, key=lambda c: int(c[1:])):
                    r = rows[c]
                    if r["ours"] and r["nginx"]:
                        f.write(f"{c[1:]} {r['ours']['rps']} {r['nginx']['rps']} "
                                f"{r['ours']['p99_ms']} {r['nginx']['p99_ms']}\n")
            gp += [f"set output 'reads-{prof}-{path}.png'",
                   "set multiplot layout 1,2 title "
                   f"'{prof}: GET {path}, svc-registry beside nginx (same bytes, same pinning)'",
                   "set xlabel 'connections (wrk -t1)'", "set ylabel 'requests/s'",
                   f"plot '{dat}' using 1:2 with linespoints title 'svc-registry', "
                   f"'{dat}' using 1:3 with linespoints title 'nginx'",
                   "set ylabel 'p99 latency (ms)'",
                   f"plot '{dat}' using 1:4 with linespoints title 'svc-registry', "
                   f"'{dat}' using 1:5 with linespoints title 'nginx'",
                   "unset multiplot"]
    gp += ["unset logscale x", "set output 'commits.png'",
           "set title 'Commit request -> 201 latency against offered cycle rate'",
           "set xlabel 'offered full cycles/s (last point: flat out, at its achieved rate)'",
           "set ylabel 'ms'", "set logscale y", "set key outside right top"]
    plots = []
    for prof, rep in report["profiles"].items():
        dat = f"commits-{prof}.dat"
        with open(os.path.join(out, dat), "w") as f:
            f.write("# rate commit_p50 commit_p95 commit_p99 cycle_p99\n")
            rows = []
            for rate, c in rep.get("commits", {}).items():
                x = c["cycles_per_s"] if rate == "flat_out" else float(rate)
                rows.append((x, c["commit"]["p50_ms"], c["commit"]["p95_ms"],
                             c["commit"]["p99_ms"], c["cycle"]["p99_ms"]))
            for r in sorted(rows):
                f.write(" ".join(str(v) for v in r) + "\n")
        plots += [f"'{dat}' using 1:2 with linespoints title '{prof} commit p50'",
                  f"'{dat}' using 1:4 with linespoints title '{prof} commit p99'",
                  f"'{dat}' using 1:5 with linespoints title '{prof} full cycle p99'"]
    if plots:
        gp.append("plot " + ", ".join(plots))
    with open(os.path.join(out, "plots.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")


def main():
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    report = {"meta": load(os.path.join(out, "meta.json")) if os.path.exists(
        os.path.join(out, "meta.json")) else {},
              "micro": micro_summary(os.path.join(raw, "micro.json")), "profiles": {}}
    for pdir in sorted(glob.glob(os.path.join(raw, "*/"))):
        report["profiles"][os.path.basename(pdir.rstrip("/"))] = profile_report(pdir)
    report["meta"]["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    report["goals"] = goals(report)
    with open(os.path.join(out, "goals.md"), "w") as f:
        f.write(goals_markdown(report["goals"]))
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    write_plots(out, report)
    print(os.path.join(out, "report.json"))


if __name__ == "__main__":
    main()

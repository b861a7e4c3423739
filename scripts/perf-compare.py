#!/usr/bin/env python3
"""The performance regression gate (issue 6; docs/PERFORMANCE.md).

    scripts/perf-compare.py BASELINE.json REPORT.json
        Compares the tracked figures of REPORT.json (from scripts/perf.sh) for the baseline's
        profile against BASELINE.json (bench/baselines/<profile>.json). Prints one line per
        figure and exits 1 when any is worse than its baseline by more than its margin
        (10%; 15% for CPU and memory), or when a tracked figure is missing from the report;
        0 otherwise. Read figures are ratios to nginx measured in the same run, so a slower
        machine moves both sides; commit, CPU and memory figures are absolute.
    scripts/perf-compare.py --extract PROFILE REPORT.json
        Prints the baseline document of PROFILE from REPORT.json (what perf.sh --baseline
        writes to bench/baselines/PROFILE.json).

Python 3.11 standard library only.
"""
import json
import sys


def extract(profile, report_path):
    with open(report_path) as f:
        report = json.load(f)
    if profile not in report.get("profiles", {}):
        sys.exit(f"perf-compare: no profile {profile} in {report_path}")
    meta = report.get("meta", {})
    doc = {
        "profile": profile,
        "from": {k: meta.get(k) for k in ("started_utc", "git", "git_dirty", "smoke", "runs",
                                           "loadavg_at_start", "loadavg_at_end", "cpu")},
        "tracked": report["profiles"][profile]["tracked"],
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


def compare(baseline_path, report_path):
    with open(baseline_path) as f:
        baseline = json.load(f)
    with open(report_path) as f:
        report = json.load(f)
    profile = baseline["profile"]
    current = report.get("profiles", {}).get(profile, {}).get("tracked")
    if current is None:
        print(f"FAIL  profile {profile} is not in {report_path}")
        return 1
    if report.get("meta", {}).get("smoke"):
        print("note: REPORT is a --smoke run; its figures are not comparable to a full baseline")
    failures = 0
    print(f"profile {profile}: baseline {baseline_path} ({baseline.get('from', {}).get('started_utc')})")
    print(f"{'':6}{'figure':40}{'baseline':>12}{'now':>12}{'change':>9}{'limit':>8}")
    for name, base in sorted(baseline["tracked"].items()):
        now = current.get(name)
        if now is None:
            print(f"FAIL  {name:40}{base['value']:12.4g}{'missing':>12}")
            failures += 1
            continue
        b, v, margin = base["value"], now["value"], base["margin"]
        change = (v - b) / b if b else 0.0
        worse = change > margin if base["better"] == "lower" else change < -margin
        failures += worse
        print(f"{'FAIL' if worse else 'ok':6}{name:40}{b:12.4g}{v:12.4g}{change:+9.1%}"
              f"{('+' if base['better'] == 'lower' else '-') + format(margin, '.0%'):>8}")
    print(f"{failures} figure(s) regressed beyond their margin" if failures else
          "no regression beyond the margins")
    return 1 if failures else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--extract":
        extract(argv[2], argv[3])
        return 0
    if len(argv) == 3:
        return compare(argv[1], argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

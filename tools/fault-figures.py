#!/usr/bin/env python3
"""Figures from a `disagg fault run` report.json (docs/FAULT-INJECTION.md): restarts, recovery per service
(median/p99), pings lost and the guest-visible outage per netback kill, requests re-issued.
usage: fault-figures.py REPORT.json [bench|text]   (bench: `bench: fault/...` lines for make bench)"""
import json
import sys


def pct(values, p):
    if not values:
        return 0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    r = json.load(open(sys.argv[1]))
    style = sys.argv[2] if len(sys.argv) == 3 else "text"
    out = []
    faults = r["faults"]
    kills = [f for f in faults if f["kind"] in ("Kill", "Segv", "JournalTear") and f.get("new_pid") not in (None, f.get("old_pid"))]
    out.append(("restarts", len(kills), f"service restarts ({len(faults)} faults, {r['elapsed_ms'] / 1000:.0f} s, passed={r['violation'] is None if 'violation' in r else True})"))
    for s in r["services"]:
        rec = [f["recovery_ms"] for f in faults if f["target"] == s["name"] and f["kind"] == "Kill" and f.get("recovery_ms") is not None]
        if rec:
            out.append((f"recovery-{s['name']}", f"{pct(rec, 50)} / {pct(rec, 99)}", f"ms median / p99, SIGKILL to serving again ({len(rec)} kills)"))
    windows = [w for p in r["network"] for w in p["windows"]]
    nk = [f for f in faults if f["target"] == "netback" and f["kind"] == "Kill" and f.get("recovery_ms") is not None]
    if nk:
        order = sorted(faults, key=lambda f: f["at_ms"])
        lost, outage = [], []
        for f in nk:
            nxt = min((g["at_ms"] for g in order if g["at_ms"] > f["at_ms"]), default=1 << 62)
            mine = [w for w in windows if w["start_ms"] + 500 >= f["at_ms"] and w["start_ms"] + 500 < nxt]
            lost.append(f["frames_lost"])
            # A window runs from the last reply before the loss to the first after it: less one ping interval is the outage.
            by_loss = max((w["end_ms"] - w["start_ms"] - 100 for w in mine), default=0)
            # A frame held in a ring while netback restarted comes back late, not lost: its round trip is the outage
            # (replies of 20 ms and more are in the report, seen within a console poll of 250 ms).
            held = [s["rtt_ms"] for p in r["network"] for s in (p.get("slow") or []) if f["at_ms"] <= s["seen_ms"] < nxt + 300]
            outage.append(max([by_loss] + held))
        out.append(("netback-kill-pings", f"{sum(lost) / len(lost):.1f}", f"pings lost per netback kill, both guests (max {max(lost)}; {len(nk)} kills)"))
        out.append(("netback-kill-outage", f"{pct(outage, 50)} / {pct(outage, 99)} / {max(outage)}", "ms median / p99 / max guest-visible outage per netback kill: the longest loss window or held round trip (target < 100)"))
        half = len(outage) // 2
        if half >= 3:
            early, late = outage[:half], outage[half:]
            out.append(("netback-kill-outage-growth", f"{pct(early, 50)} -> {pct(late, 50)}", "ms median outage, first half of the kills -> second half (growth over the run)"))
    rtts = [p.get("median_rtt_ms", 0) for p in r["network"]]
    if rtts:
        out.append(("ping-rtt", f"{max(rtts)} / {max(p.get('max_rtt_ms', 0) for p in r['network'])}", "ms median / max round trip of the pinging guests"))
    reissued = sum(s["reissued"] for s in r["storage"])
    out.append(("reissued", reissued, f"blk requests re-issued; {sum(s['mismatches'] for s in r['storage'])} mismatches, {sum(s['errors'] for s in r['storage'])} I/O errors"))
    for name, value, what in out:
        print(f"bench: fault/{name} {value} {what}" if style == "bench" else f"{name}: {value} {what}")


main()

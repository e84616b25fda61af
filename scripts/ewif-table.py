#!/usr/bin/env python3
"""Prints the water intensity of electricity (EWIF, L/kWh) of every country in
data/generation_mix.csv, computed exactly as src/carbon/zones.c does at load time:
    EWIF = sum(share_fuel * factor_fuel) / sum(share_fuel),  factor in L/kWh = gal/MWh * 3.785411784e-3
It also prints a plausibility check of the shares: the intensity they imply with IPCC AR5
life-cycle medians (the factors Ember's methodology cites) against the bundled Ember intensity.
Year shifts (the mix of 2022 or 2023 against the intensity of 2024), imports and
country-specific plant efficiencies make ratios of 0.4-2.8 happen for small or fast-changing
grids; the rows marked are listed for a reviewer, not refused (the shares are extracted by
scripts/gen-generation-mix.py, not typed). Run from the repository root, no arguments; exit 0.
"""
import csv
import sys

GALLON_L = 3.785411784
FUELS = ["coal", "gas", "oil", "nuclear", "hydro", "wind", "solar", "bioenergy", "other_renewables"]
# gCO2e/kWh, IPCC AR5 WG3 Annex III life-cycle medians (oil: Ember's "other fossil" figure)
LIFECYCLE = dict(coal=820, gas=490, oil=700, nuclear=12, hydro=24, wind=11, solar=48,
                 bioenergy=230, other_renewables=38)


def main():
    factor = {}
    for r in csv.DictReader(open("data/water_factors.csv", encoding="utf-8")):
        factor[r["fuel"]] = float(r["gal_per_mwh"]) * GALLON_L / 1000
    ci = {r["code"]: float(r["ci_g_per_kwh"])
          for r in csv.DictReader(open("data/grid_intensity.csv", encoding="utf-8"))}
    bad = 0
    print(f"{'code':6} {'year':4} {'sum %':>6} {'EWIF L/kWh':>10} {'implied CI':>10} "
          f"{'bundled CI':>10} {'ratio':>5}")
    for r in csv.DictReader(open("data/generation_mix.csv", encoding="utf-8")):
        shares = {f: float(r[f]) for f in FUELS}
        total = sum(shares.values())
        ewif = sum(shares[f] * factor[f] for f in FUELS) / total
        implied = sum(shares[f] * LIFECYCLE[f] for f in FUELS) / total
        ratio = ci[r["code"]] / implied
        flag = "" if 0.7 <= ratio <= 1.5 else "  <-- check this row"
        bad += bool(flag)
        print(f"{r['code']:6} {r['year']:4} {total:6.1f} {ewif:10.3f} {implied:10.0f} "
              f"{ci[r['code']]:10.0f} {ratio:5.2f}{flag}")
    print(f"{bad} rows outside 0.7-1.5 (informational)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

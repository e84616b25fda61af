#!/usr/bin/env python3
"""Writes data/generation_mix.csv from the generation mix by source in ../shared/data (see
data/SOURCES.md): Our World in Data's energy dataset (compiled from Ember and the Energy
Institute), one row per country of data/grid_intensity.csv that has a mix, with that country's
latest year as given; libjoulestream turns each row into the country's EWIF with
data/water_factors.csv. The WORLD row is the sum of every country's generation (each its own
latest year). Run from the repository root:
    python3 scripts/gen-generation-mix.py [SHARED_DATA_DIR] > data/generation_mix.csv
Shares are percent of the row's total generation, rounded to 0.001 percentage point; the
loader normalises by their sum, so the rounding does not bias the EWIF.
"""
import csv
import json
import os
import sys

# our fuel columns <- the file's keys (TWh); "oil" is oil-fired generation, "other_renewables"
# the other renewables without bioenergy (geothermal, tide, wave)
FUELS = [
    ("coal", "coal_TWh"), ("gas", "gas_TWh"), ("oil", "oil_TWh"), ("nuclear", "nuclear_TWh"),
    ("hydro", "hydroelectricity_TWh"), ("wind", "wind_TWh"), ("solar", "solar_TWh"),
    ("bioenergy", "biofuel_TWh"), ("other_renewables", "other_renewable_exc_biofuel_TWh"),
]


def source(year):
    return f"OWID {year} generation mix (Ember, Energy Institute)"


def share(twh, total):
    s = f"{100 * twh / total:.3f}".rstrip("0").rstrip(".")
    return s if s != "-0" else "0"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data")
    with open(os.path.join(shared, "generation-mix-owid.json"), encoding="utf-8") as f:
        owid = json.load(f)["countries"]
    alpha2 = {}
    with open(os.path.join(root, "data", "grid_intensity.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["iso3"]:
                alpha2[r["iso3"]] = r["code"]

    rows, world, years = [], {k: 0.0 for _, k in FUELS}, []
    for a3 in sorted(owid):
        v = owid[a3]
        twh = {k: float(v.get(k) or 0) for _, k in FUELS}
        total = sum(twh.values())
        if a3 not in alpha2 or total <= 0:  # no grid zone to attach it to, or no generation
            continue
        year = int(v["year"])
        rows.append([alpha2[a3], str(year)] + [share(twh[k], total) for _, k in FUELS] + [source(year)])
        for k in world:
            world[k] += twh[k]
        years.append(year)
    rows.sort(key=lambda r: r[0])
    total = sum(world.values())
    rows.insert(0, ["WORLD", str(max(years))] + [share(world[k], total) for _, k in FUELS] +
                [f"OWID generation mixes of {len(years)} countries summed ({min(years)}-{max(years)})"])

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["code", "year"] + [c for c, _ in FUELS] + ["source"])
    out.writerows(rows)


if __name__ == "__main__":
    main()

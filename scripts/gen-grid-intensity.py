#!/usr/bin/env python3
"""Writes data/grid_intensity.csv from the reference data in ../shared/data (see data/SOURCES.md).

Country rows come from Ember's yearly carbon intensity (latest year per country, as given), keyed
by ISO 3166-1 alpha-2 with the alpha-3 code beside it; the WORLD row is Ember's "World"; rows whose
code contains '-' are Electricity Maps' 2024 sub-national zones. Run from the repository root:
    python3 scripts/gen-grid-intensity.py [SHARED_DATA_DIR] > data/grid_intensity.csv
"""
import csv
import json
import os
import sys

# ISO 3166-1 alpha-3 -> alpha-2 for every code in Ember's table. XKX/XK (Kosovo) is a
# user-assigned code that the European Commission and most data sets use; ISO has none.
ALPHA3_TO_ALPHA2 = {
    "ABW": "AW", "AFG": "AF", "AGO": "AO", "ALB": "AL", "ARE": "AE", "ARG": "AR", "ARM": "AM",
    "ASM": "AS", "ATG": "AG", "AUS": "AU", "AUT": "AT", "AZE": "AZ", "BDI": "BI", "BEL": "BE",
    "BEN": "BJ", "BFA": "BF", "BGD": "BD", "BGR": "BG", "BHR": "BH", "BHS": "BS", "BIH": "BA",
    "BLR": "BY", "BLZ": "BZ", "BOL": "BO", "BRA": "BR", "BRB": "BB", "BRN": "BN", "BTN": "BT",
    "BWA": "BW", "CAF": "CF", "CAN": "CA", "CHE": "CH", "CHL": "CL", "CHN": "CN", "CIV": "CI",
    "CMR": "CM", "COD": "CD", "COG": "CG", "COK": "CK", "COL": "CO", "COM": "KM", "CPV": "CV",
    "CRI": "CR", "CUB": "CU", "CYM": "KY", "CYP": "CY", "CZE": "CZ", "DEU": "DE", "DJI": "DJ",
    "DMA": "DM", "DNK": "DK", "DOM": "DO", "DZA": "DZ", "ECU": "EC", "EGY": "EG", "ERI": "ER",
    "ESP": "ES", "EST": "EE", "ETH": "ET", "FIN": "FI", "FJI": "FJ", "FLK": "FK", "FRA": "FR",
    "FRO": "FO", "GAB": "GA", "GBR": "GB", "GEO": "GE", "GHA": "GH", "GIN": "GN", "GLP": "GP",
    "GMB": "GM", "GNB": "GW", "GNQ": "GQ", "GRC": "GR", "GRD": "GD", "GRL": "GL", "GTM": "GT",
    "GUF": "GF", "GUM": "GU", "GUY": "GY", "HKG": "HK", "HND": "HN", "HRV": "HR", "HTI": "HT",
    "HUN": "HU", "IDN": "ID", "IND": "IN", "IRL": "IE", "IRN": "IR", "IRQ": "IQ", "ISL": "IS",
    "ISR": "IL", "ITA": "IT", "JAM": "JM", "JOR": "JO", "JPN": "JP", "KAZ": "KZ", "KEN": "KE",
    "KGZ": "KG", "KHM": "KH", "KIR": "KI", "KNA": "KN", "KOR": "KR", "KWT": "KW", "LAO": "LA",
    "LBN": "LB", "LBR": "LR", "LBY": "LY", "LCA": "LC", "LKA": "LK", "LSO": "LS", "LTU": "LT",
    "LUX": "LU", "LVA": "LV", "MAC": "MO", "MAR": "MA", "MDA": "MD", "MDG": "MG", "MDV": "MV",
    "MEX": "MX", "MKD": "MK", "MLI": "ML", "MLT": "MT", "MMR": "MM", "MNE": "ME", "MNG": "MN",
    "MOZ": "MZ", "MRT": "MR", "MSR": "MS", "MTQ": "MQ", "MUS": "MU", "MWI": "MW", "MYS": "MY",
    "NAM": "NA", "NCL": "NC", "NER": "NE", "NGA": "NG", "NIC": "NI", "NLD": "NL", "NOR": "NO",
    "NPL": "NP", "NRU": "NR", "NZL": "NZ", "OMN": "OM", "PAK": "PK", "PAN": "PA", "PER": "PE",
    "PHL": "PH", "PNG": "PG", "POL": "PL", "PRI": "PR", "PRK": "KP", "PRT": "PT", "PRY": "PY",
    "PSE": "PS", "PYF": "PF", "QAT": "QA", "REU": "RE", "ROU": "RO", "RUS": "RU", "RWA": "RW",
    "SAU": "SA", "SDN": "SD", "SEN": "SN", "SGP": "SG", "SLB": "SB", "SLE": "SL", "SLV": "SV",
    "SOM": "SO", "SPM": "PM", "SRB": "RS", "SSD": "SS", "STP": "ST", "SUR": "SR", "SVK": "SK",
    "SVN": "SI", "SWE": "SE", "SWZ": "SZ", "SYC": "SC", "SYR": "SY", "TCA": "TC", "TCD": "TD",
    "TGO": "TG", "THA": "TH", "TJK": "TJ", "TKM": "TM", "TON": "TO", "TTO": "TT", "TUN": "TN",
    "TUR": "TR", "TWN": "TW", "TZA": "TZ", "UGA": "UG", "UKR": "UA", "URY": "UY", "USA": "US",
    "UZB": "UZ", "VCT": "VC", "VEN": "VE", "VGB": "VG", "VIR": "VI", "VNM": "VN", "VUT": "VU",
    "WSM": "WS", "XKX": "XK", "YEM": "YE", "ZAF": "ZA", "ZMB": "ZM", "ZWE": "ZW",
}

EM_SOURCE = "Electricity Maps 2024 yearly average (consumption-based, life-cycle)"


def number(v):
    """The figure as the source wrote it: 550 stays 550, 342.06 stays 342.06."""
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return str(int(v))
    return repr(float(v))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data")
    with open(os.path.join(shared, "ember-yearly-intensity.json"), encoding="utf-8") as f:
        ember = json.load(f)
    with open(os.path.join(shared, "electricitymaps-yearly-2024.json"), encoding="utf-8") as f:
        emaps = json.load(f)

    rows = []
    for v in ember.values():
        a3 = v["country_code"]
        if not a3:
            continue
        if a3 not in ALPHA3_TO_ALPHA2:
            sys.exit(f"no alpha-2 code for {a3} ({v['country_or_region']}): add it to the table")
        year = int(v["year"])
        rows.append([ALPHA3_TO_ALPHA2[a3], a3, v["country_or_region"],
                     number(v["emissions_intensity_gco2_per_kwh"]), str(year),
                     f"Ember {year} yearly average"])
    rows.sort(key=lambda r: r[0])
    codes = [r[0] for r in rows]
    if len(set(codes)) != len(codes):
        sys.exit("duplicate alpha-2 code in the Ember rows")

    sub = []
    for code, v in emaps.items():
        if "-" not in code:
            continue
        sub.append([code, "", v["zone"]["zoneName"], number(v["carbonIntensity"]["value"]),
                    "2024", EM_SOURCE])
    sub.sort(key=lambda r: r[0])

    world = ember["World"]
    rows += sub
    rows.append(["WORLD", "", "World", number(world["emissions_intensity_gco2_per_kwh"]),
                 str(int(world["year"])), f"Ember {int(world['year'])} yearly average"])

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["code", "iso3", "name", "ci_g_per_kwh", "year", "source"])
    out.writerows(rows)


if __name__ == "__main__":
    main()

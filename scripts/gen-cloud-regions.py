#!/usr/bin/env python3
"""Writes data/cloud_regions.csv: every region of AWS, Google Cloud and Microsoft Azure as the
providers list them in 2026 (commercial, government and China regions), the grid zone of
data/grid_intensity.csv each draws on, and its provider's published PUE and WUE with the year
(data/SOURCES.md, "Cloud regions", cites each). The region list and the zones are this project's
compilation from the providers' documentation, kept here so that the CSV is generated, never
edited by hand. Run from the repository root:
    python3 scripts/gen-cloud-regions.py > data/cloud_regions.csv
"""
import csv
import sys

# provider -> (PUE, WUE L/kWh or None when unpublished, source text with the years)
FACTORS = {
    "aws": (1.14, 0.18, "AWS global PUE 1.14 for 2025 (Amazon sustainability site, 2026) and "
                        "WUE 0.18 L/kWh for 2023 (Amazon 2023 sustainability report)"),
    "gcp": (1.09, None, "Google fleet-wide trailing-twelve-month PUE 1.09 for 2024 (Google 2025 "
                        "Environmental Report); no fleet WUE published"),
    "azure": (1.18, 0.30, "Microsoft datacenter fleet average PUE 1.18 and WUE 0.30 L/kWh "
                          "(fiscal year 2024)"),
}

# (provider, region, grid zone, location): the location's last part is the country
REGIONS = [
    # aws
    ('aws', 'us-east-1', 'US-MIDA-PJM', 'N. Virginia, US'),
    ('aws', 'us-east-2', 'US-MIDA-PJM', 'Ohio, US'),
    ('aws', 'us-west-1', 'US-CAL-CISO', 'N. California, US'),
    ('aws', 'us-west-2', 'US-NW-BPAT', 'Oregon, US'),
    ('aws', 'ca-central-1', 'CA-QC', 'Montreal, Canada'),
    ('aws', 'ca-west-1', 'CA-AB', 'Calgary, Canada'),
    ('aws', 'mx-central-1', 'MX', 'Queretaro, Mexico'),
    ('aws', 'sa-east-1', 'BR-CS', 'Sao Paulo, Brazil'),
    ('aws', 'eu-west-1', 'IE', 'Dublin, Ireland'),
    ('aws', 'eu-west-2', 'GB', 'London, UK'),
    ('aws', 'eu-west-3', 'FR', 'Paris, France'),
    ('aws', 'eu-central-1', 'DE', 'Frankfurt, Germany'),
    ('aws', 'eu-central-2', 'CH', 'Zurich, Switzerland'),
    ('aws', 'eu-north-1', 'SE-SE3', 'Stockholm, Sweden'),
    ('aws', 'eu-south-1', 'IT-NO', 'Milan, Italy'),
    ('aws', 'eu-south-2', 'ES', 'Aragon, Spain'),
    ('aws', 'il-central-1', 'IL', 'Tel Aviv, Israel'),
    ('aws', 'me-south-1', 'BH', 'Bahrain'),
    ('aws', 'me-central-1', 'AE', 'United Arab Emirates'),
    ('aws', 'af-south-1', 'ZA', 'Cape Town, South Africa'),
    ('aws', 'ap-east-1', 'HK', 'Hong Kong'),
    ('aws', 'ap-south-1', 'IN-WE', 'Mumbai, India'),
    ('aws', 'ap-south-2', 'IN-SO', 'Hyderabad, India'),
    ('aws', 'ap-northeast-1', 'JP-TK', 'Tokyo, Japan'),
    ('aws', 'ap-northeast-2', 'KR', 'Seoul, South Korea'),
    ('aws', 'ap-northeast-3', 'JP-KN', 'Osaka, Japan'),
    ('aws', 'ap-southeast-1', 'SG', 'Singapore'),
    ('aws', 'ap-southeast-2', 'AU-NSW', 'Sydney, Australia'),
    ('aws', 'ap-southeast-3', 'ID', 'Jakarta, Indonesia'),
    ('aws', 'ap-southeast-4', 'AU-VIC', 'Melbourne, Australia'),
    ('aws', 'ap-southeast-5', 'MY-WM', 'Kuala Lumpur, Malaysia'),
    ('aws', 'ap-east-2', 'TW', 'Taipei, Taiwan'),
    ('aws', 'ap-southeast-6', 'NZ', 'Auckland, New Zealand'),
    ('aws', 'ap-southeast-7', 'TH', 'Bangkok, Thailand'),
    ('aws', 'us-gov-west-1', 'US-NW-BPAT', 'Oregon, US'),
    ('aws', 'us-gov-east-1', 'US-MIDA-PJM', 'Ohio, US'),
    ('aws', 'cn-north-1', 'CN', 'Beijing, China'),
    ('aws', 'cn-northwest-1', 'CN', 'Ningxia, China'),
    # gcp
    ('gcp', 'us-central1', 'US-MIDW-MISO', 'Council Bluffs, Iowa, US'),
    ('gcp', 'us-east1', 'US-CAR-SC', 'Moncks Corner, South Carolina, US'),
    ('gcp', 'us-east4', 'US-MIDA-PJM', 'Ashburn, Virginia, US'),
    ('gcp', 'us-east5', 'US-MIDA-PJM', 'Columbus, Ohio, US'),
    ('gcp', 'us-south1', 'US-TEX-ERCO', 'Dallas, Texas, US'),
    ('gcp', 'us-west1', 'US-NW-BPAT', 'The Dalles, Oregon, US'),
    ('gcp', 'us-west2', 'US-CAL-LDWP', 'Los Angeles, California, US'),
    ('gcp', 'us-west3', 'US-NW-PACE', 'Salt Lake City, Utah, US'),
    ('gcp', 'us-west4', 'US-NW-NEVP', 'Las Vegas, Nevada, US'),
    ('gcp', 'northamerica-northeast1', 'CA-QC', 'Montreal, Canada'),
    ('gcp', 'northamerica-northeast2', 'CA-ON', 'Toronto, Canada'),
    ('gcp', 'southamerica-east1', 'BR-CS', 'Sao Paulo, Brazil'),
    ('gcp', 'southamerica-west1', 'CL-SEN', 'Santiago, Chile'),
    ('gcp', 'europe-west1', 'BE', 'St. Ghislain, Belgium'),
    ('gcp', 'europe-west2', 'GB', 'London, UK'),
    ('gcp', 'europe-west3', 'DE', 'Frankfurt, Germany'),
    ('gcp', 'europe-west4', 'NL', 'Eemshaven, Netherlands'),
    ('gcp', 'europe-west6', 'CH', 'Zurich, Switzerland'),
    ('gcp', 'europe-west8', 'IT-NO', 'Milan, Italy'),
    ('gcp', 'europe-west9', 'FR', 'Paris, France'),
    ('gcp', 'europe-southwest1', 'ES', 'Madrid, Spain'),
    ('gcp', 'europe-north1', 'FI', 'Hamina, Finland'),
    ('gcp', 'europe-central2', 'PL', 'Warsaw, Poland'),
    ('gcp', 'me-west1', 'IL', 'Tel Aviv, Israel'),
    ('gcp', 'me-central1', 'QA', 'Doha, Qatar'),
    ('gcp', 'africa-south1', 'ZA', 'Johannesburg, South Africa'),
    ('gcp', 'asia-east1', 'TW', 'Changhua County, Taiwan'),
    ('gcp', 'asia-east2', 'HK', 'Hong Kong'),
    ('gcp', 'asia-northeast1', 'JP-TK', 'Tokyo, Japan'),
    ('gcp', 'asia-northeast2', 'JP-KN', 'Osaka, Japan'),
    ('gcp', 'asia-northeast3', 'KR', 'Seoul, South Korea'),
    ('gcp', 'asia-south1', 'IN-WE', 'Mumbai, India'),
    ('gcp', 'asia-south2', 'IN-NO', 'Delhi, India'),
    ('gcp', 'asia-southeast1', 'SG', 'Jurong West, Singapore'),
    ('gcp', 'asia-southeast2', 'ID', 'Jakarta, Indonesia'),
    ('gcp', 'australia-southeast1', 'AU-NSW', 'Sydney, Australia'),
    ('gcp', 'australia-southeast2', 'AU-VIC', 'Melbourne, Australia'),
    ('gcp', 'europe-west10', 'DE', 'Berlin, Germany'),
    ('gcp', 'europe-west12', 'IT-NO', 'Turin, Italy'),
    ('gcp', 'europe-north2', 'SE-SE3', 'Stockholm, Sweden'),
    ('gcp', 'me-central2', 'SA', 'Dammam, Saudi Arabia'),
    ('gcp', 'northamerica-south1', 'MX', 'Queretaro, Mexico'),
    # azure
    ('azure', 'eastus', 'US-MIDA-PJM', 'Virginia, US'),
    ('azure', 'eastus2', 'US-MIDA-PJM', 'Virginia, US'),
    ('azure', 'centralus', 'US-MIDW-MISO', 'Iowa, US'),
    ('azure', 'northcentralus', 'US-MIDA-PJM', 'Illinois, US'),
    ('azure', 'southcentralus', 'US-TEX-ERCO', 'Texas, US'),
    ('azure', 'westus', 'US-CAL-CISO', 'California, US'),
    ('azure', 'westus2', 'US-NW-GCPD', 'Washington, US'),
    ('azure', 'westus3', 'US-SW-AZPS', 'Arizona, US'),
    ('azure', 'westcentralus', 'US-NW-WACM', 'Wyoming, US'),
    ('azure', 'canadacentral', 'CA-ON', 'Toronto, Canada'),
    ('azure', 'canadaeast', 'CA-QC', 'Quebec City, Canada'),
    ('azure', 'brazilsouth', 'BR-CS', 'Sao Paulo State, Brazil'),
    ('azure', 'northeurope', 'IE', 'Dublin, Ireland'),
    ('azure', 'westeurope', 'NL', 'Netherlands'),
    ('azure', 'uksouth', 'GB', 'London, UK'),
    ('azure', 'ukwest', 'GB', 'Cardiff, UK'),
    ('azure', 'francecentral', 'FR', 'Paris, France'),
    ('azure', 'germanywestcentral', 'DE', 'Frankfurt, Germany'),
    ('azure', 'switzerlandnorth', 'CH', 'Zurich, Switzerland'),
    ('azure', 'norwayeast', 'NO-NO1', 'Oslo, Norway'),
    ('azure', 'swedencentral', 'SE-SE3', 'Gavle, Sweden'),
    ('azure', 'polandcentral', 'PL', 'Warsaw, Poland'),
    ('azure', 'italynorth', 'IT-NO', 'Milan, Italy'),
    ('azure', 'spaincentral', 'ES', 'Madrid, Spain'),
    ('azure', 'israelcentral', 'IL', 'Israel'),
    ('azure', 'qatarcentral', 'QA', 'Doha, Qatar'),
    ('azure', 'uaenorth', 'AE', 'Dubai, United Arab Emirates'),
    ('azure', 'southafricanorth', 'ZA', 'Johannesburg, South Africa'),
    ('azure', 'centralindia', 'IN-WE', 'Pune, India'),
    ('azure', 'southindia', 'IN-SO', 'Chennai, India'),
    ('azure', 'eastasia', 'HK', 'Hong Kong'),
    ('azure', 'southeastasia', 'SG', 'Singapore'),
    ('azure', 'japaneast', 'JP-TK', 'Tokyo, Japan'),
    ('azure', 'japanwest', 'JP-KN', 'Osaka, Japan'),
    ('azure', 'koreacentral', 'KR', 'Seoul, South Korea'),
    ('azure', 'australiaeast', 'AU-NSW', 'New South Wales, Australia'),
    ('azure', 'australiasoutheast', 'AU-VIC', 'Victoria, Australia'),
    ('azure', 'australiacentral', 'AU-NSW', 'Canberra, Australia'),
    ('azure', 'australiacentral2', 'AU-NSW', 'Canberra, Australia'),
    ('azure', 'austriaeast', 'AT', 'Vienna, Austria'),
    ('azure', 'belgiumcentral', 'BE', 'Brussels, Belgium'),
    ('azure', 'brazilsoutheast', 'BR-CS', 'Rio de Janeiro, Brazil'),
    ('azure', 'chilecentral', 'CL-SEN', 'Santiago, Chile'),
    ('azure', 'francesouth', 'FR', 'Marseille, France'),
    ('azure', 'germanynorth', 'DE', 'Berlin, Germany'),
    ('azure', 'indonesiacentral', 'ID', 'Jakarta, Indonesia'),
    ('azure', 'jioindiacentral', 'IN-WE', 'Nagpur, India'),
    ('azure', 'jioindiawest', 'IN-WE', 'Jamnagar, India'),
    ('azure', 'koreasouth', 'KR', 'Busan, South Korea'),
    ('azure', 'malaysiawest', 'MY-WM', 'Kuala Lumpur, Malaysia'),
    ('azure', 'mexicocentral', 'MX', 'Queretaro, Mexico'),
    ('azure', 'newzealandnorth', 'NZ', 'Auckland, New Zealand'),
    ('azure', 'norwaywest', 'NO-NO2', 'Stavanger, Norway'),
    ('azure', 'southafricawest', 'ZA', 'Cape Town, South Africa'),
    ('azure', 'swedensouth', 'SE-SE4', 'Malmo, Sweden'),
    ('azure', 'switzerlandwest', 'CH', 'Geneva, Switzerland'),
    ('azure', 'uaecentral', 'AE', 'Abu Dhabi, United Arab Emirates'),
    ('azure', 'westindia', 'IN-WE', 'Mumbai, India'),
    ('azure', 'usgovvirginia', 'US-MIDA-PJM', 'Virginia, US'),
    ('azure', 'usgovarizona', 'US-SW-AZPS', 'Arizona, US'),
    ('azure', 'usgovtexas', 'US-TEX-ERCO', 'Texas, US'),
    ('azure', 'chinanorth2', 'CN', 'Beijing, China'),
    ('azure', 'chinanorth3', 'CN', 'Hebei, China'),
    ('azure', 'chinaeast2', 'CN', 'Shanghai, China'),
    ('azure', 'chinaeast3', 'CN', 'Shanghai, China'),
]


def main():
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["provider", "region", "zone", "location", "pue", "wue_l_per_kwh", "source"])
    seen = set()
    for provider, region, zone, location in REGIONS:
        if (provider, region) in seen:
            sys.exit(f"second row for {provider}:{region}")
        seen.add((provider, region))
        pue, wue, source = FACTORS[provider]
        out.writerow([provider, region, zone, location, f"{pue:.2f}",
                      "" if wue is None else f"{wue:.2f}", source])


if __name__ == "__main__":
    main()

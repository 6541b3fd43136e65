"""ICAO 9303 state and organisation codes (the three letters of an MRZ's issuing state and
nationality), with the names the UN accreditation list uses for delegations. Pure data.

Codes are ISO 3166-1 alpha-3 plus the ICAO additions (Doc 9303 part 3): "D" for Germany, the
British nationality variants, the United Nations (laissez-passer), stateless persons and refugees,
and the specimen state Utopia. Names are the UN's short names; `ALIASES` holds other names a list
may use for the same state (the 2017 names, e.g. Swaziland, Turkey).
"""

from __future__ import annotations

STATES: dict[str, str] = {
    "AFG": "Afghanistan", "ALB": "Albania", "DZA": "Algeria", "AND": "Andorra", "AGO": "Angola",
    "ATG": "Antigua and Barbuda", "ARG": "Argentina", "ARM": "Armenia", "AUS": "Australia", "AUT": "Austria",
    "AZE": "Azerbaijan", "BHS": "Bahamas", "BHR": "Bahrain", "BGD": "Bangladesh", "BRB": "Barbados",
    "BLR": "Belarus", "BEL": "Belgium", "BLZ": "Belize", "BEN": "Benin", "BTN": "Bhutan",
    "BOL": "Bolivia (Plurinational State of)", "BIH": "Bosnia and Herzegovina", "BWA": "Botswana",
    "BRA": "Brazil", "BRN": "Brunei Darussalam", "BGR": "Bulgaria", "BFA": "Burkina Faso", "BDI": "Burundi",
    "CPV": "Cabo Verde", "KHM": "Cambodia", "CMR": "Cameroon", "CAN": "Canada", "CAF": "Central African Republic",
    "TCD": "Chad", "CHL": "Chile", "CHN": "China", "COL": "Colombia", "COM": "Comoros", "COG": "Congo",
    "CRI": "Costa Rica", "CIV": "Côte d'Ivoire", "HRV": "Croatia", "CUB": "Cuba", "CYP": "Cyprus",
    "CZE": "Czechia", "PRK": "Democratic People's Republic of Korea", "COD": "Democratic Republic of the Congo",
    "DNK": "Denmark", "DJI": "Djibouti", "DMA": "Dominica", "DOM": "Dominican Republic", "ECU": "Ecuador",
    "EGY": "Egypt", "SLV": "El Salvador", "GNQ": "Equatorial Guinea", "ERI": "Eritrea", "EST": "Estonia",
    "SWZ": "Eswatini", "ETH": "Ethiopia", "FJI": "Fiji", "FIN": "Finland", "FRA": "France", "GAB": "Gabon",
    "GMB": "Gambia", "GEO": "Georgia", "D": "Germany", "DEU": "Germany", "GHA": "Ghana", "GRC": "Greece",
    "GRD": "Grenada", "GTM": "Guatemala", "GIN": "Guinea", "GNB": "Guinea-Bissau", "GUY": "Guyana",
    "HTI": "Haiti", "HND": "Honduras", "HUN": "Hungary", "ISL": "Iceland", "IND": "India", "IDN": "Indonesia",
    "IRN": "Iran (Islamic Republic of)", "IRQ": "Iraq", "IRL": "Ireland", "ISR": "Israel", "ITA": "Italy",
    "JAM": "Jamaica", "JPN": "Japan", "JOR": "Jordan", "KAZ": "Kazakhstan", "KEN": "Kenya", "KIR": "Kiribati",
    "KWT": "Kuwait", "KGZ": "Kyrgyzstan", "LAO": "Lao People's Democratic Republic", "LVA": "Latvia",
    "LBN": "Lebanon", "LSO": "Lesotho", "LBR": "Liberia", "LBY": "Libya", "LIE": "Liechtenstein",
    "LTU": "Lithuania", "LUX": "Luxembourg", "MDG": "Madagascar", "MWI": "Malawi", "MYS": "Malaysia",
    "MDV": "Maldives", "MLI": "Mali", "MLT": "Malta", "MHL": "Marshall Islands", "MRT": "Mauritania",
    "MUS": "Mauritius", "MEX": "Mexico", "FSM": "Micronesia (Federated States of)", "MCO": "Monaco",
    "MNG": "Mongolia", "MNE": "Montenegro", "MAR": "Morocco", "MOZ": "Mozambique", "MMR": "Myanmar",
    "NAM": "Namibia", "NRU": "Nauru", "NPL": "Nepal", "NLD": "Netherlands", "NZL": "New Zealand",
    "NIC": "Nicaragua", "NER": "Niger", "NGA": "Nigeria", "MKD": "North Macedonia", "NOR": "Norway",
    "OMN": "Oman", "PAK": "Pakistan", "PLW": "Palau", "PAN": "Panama", "PNG": "Papua New Guinea",
    "PRY": "Paraguay", "PER": "Peru", "PHL": "Philippines", "POL": "Poland", "PRT": "Portugal", "QAT": "Qatar",
    "KOR": "Republic of Korea", "MDA": "Republic of Moldova", "ROU": "Romania", "RUS": "Russian Federation",
    "RWA": "Rwanda", "KNA": "Saint Kitts and Nevis", "LCA": "Saint Lucia",
    "VCT": "Saint Vincent and the Grenadines", "WSM": "Samoa", "SMR": "San Marino",
    "STP": "Sao Tome and Principe", "SAU": "Saudi Arabia", "SEN": "Senegal", "SRB": "Serbia",
    "SYC": "Seychelles", "SLE": "Sierra Leone", "SGP": "Singapore", "SVK": "Slovakia", "SVN": "Slovenia",
    "SLB": "Solomon Islands", "SOM": "Somalia", "ZAF": "South Africa", "SSD": "South Sudan", "ESP": "Spain",
    "LKA": "Sri Lanka", "SDN": "Sudan", "SUR": "Suriname", "SWE": "Sweden", "CHE": "Switzerland",
    "SYR": "Syrian Arab Republic", "TJK": "Tajikistan", "THA": "Thailand", "TLS": "Timor-Leste", "TGO": "Togo",
    "TON": "Tonga", "TTO": "Trinidad and Tobago", "TUN": "Tunisia", "TUR": "Türkiye", "TKM": "Turkmenistan",
    "TUV": "Tuvalu", "UGA": "Uganda", "UKR": "Ukraine", "ARE": "United Arab Emirates",
    "GBR": "United Kingdom of Great Britain and Northern Ireland",
    "TZA": "United Republic of Tanzania", "USA": "United States of America", "URY": "Uruguay",
    "UZB": "Uzbekistan", "VUT": "Vanuatu", "VEN": "Venezuela (Bolivarian Republic of)", "VNM": "Viet Nam",
    "YEM": "Yemen", "ZMB": "Zambia", "ZWE": "Zimbabwe",
    # Observer States.
    "VAT": "Holy See", "PSE": "State of Palestine",
    # British nationality variants (Doc 9303 part 3).
    "GBD": "United Kingdom of Great Britain and Northern Ireland",
    "GBN": "United Kingdom of Great Britain and Northern Ireland",
    "GBO": "United Kingdom of Great Britain and Northern Ireland",
    "GBP": "United Kingdom of Great Britain and Northern Ireland",
    "GBS": "United Kingdom of Great Britain and Northern Ireland",
    # Other territories whose documents a desk meets.
    "TWN": "Taiwan", "HKG": "Hong Kong, China", "MAC": "Macao, China", "RKS": "Kosovo",
}

# Organisations that issue travel documents, and the codes for persons without a nationality.
ORGANISATIONS: dict[str, str] = {
    "UNO": "United Nations", "UNA": "United Nations specialized agency", "UNK": "United Nations (Kosovo)",
    "EUE": "European Union", "XOM": "Sovereign Military Order of Malta", "XPO": "INTERPOL",
    "XCC": "Caribbean Community", "XEC": "Economic Community of West African States",
    "XBA": "African Development Bank", "XIM": "African Export-Import Bank",
    "XXA": "Stateless person", "XXB": "Refugee", "XXC": "Refugee (other)", "XXX": "Unspecified nationality",
    "UTO": "Utopia (ICAO specimen)",
}

UN_ISSUERS = frozenset({"UNO", "UNA", "UNK"})

# Other names of the same state that an accreditation list may use (older or longer forms).
ALIASES: dict[str, tuple[str, ...]] = {
    "SWZ": ("Swaziland", "Kingdom of Eswatini"),
    "TUR": ("Turkey", "Republic of Türkiye"),
    "MKD": ("The former Yugoslav Republic of Macedonia",),
    "NLD": ("Netherlands (Kingdom of the)", "Kingdom of the Netherlands"),
    "CZE": ("Czech Republic",),
    "CPV": ("Cape Verde",),
    "CIV": ("Cote d'Ivoire", "Ivory Coast"),
    "GBR": ("United Kingdom",), "GBD": ("United Kingdom",), "GBN": ("United Kingdom",),
    "GBO": ("United Kingdom",), "GBP": ("United Kingdom",), "GBS": ("United Kingdom",),
    "USA": ("United States",),
    "RUS": ("Russia",),
    "VNM": ("Vietnam",),
    "IRN": ("Iran",),
    "BOL": ("Bolivia",),
    "VEN": ("Venezuela",),
    "SYR": ("Syria",),
    "LAO": ("Laos",),
    "TZA": ("Tanzania",),
    "MDA": ("Moldova",),
    "KOR": ("South Korea", "Korea, Republic of"),
    "PRK": ("North Korea",),
    "FSM": ("Micronesia",),
    "BRN": ("Brunei",),
    "COD": ("Congo, Democratic Republic of the",),
    "PSE": ("Palestine",),
    "VAT": ("Vatican",),
}


def name_of(code: str) -> str:
    """'UTO' -> 'Utopia (ICAO specimen)'; an unknown code is returned as it is."""
    key = code.strip("<").upper()
    return STATES.get(key) or ORGANISATIONS.get(key) or key


def is_known(code: str) -> bool:
    key = code.strip("<").upper()
    return key in STATES or key in ORGANISATIONS


def names_of_state(code: str) -> tuple[str, ...]:
    """Every name a delegation of this state may carry on the list; () for organisations and unknown codes."""
    key = code.strip("<").upper()
    name = STATES.get(key)
    if name is None:
        return ()
    return (name, *ALIASES.get(key, ()))


def state_names() -> frozenset[str]:
    """All state names and aliases (to tell a state delegation from an organisation)."""
    return frozenset([*STATES.values(), *(alias for names in ALIASES.values() for alias in names)])

"""Fixed reference data the demo draws from: places, carriers, customers, suppliers, products.

Real city names with plausible coordinates so maps and distances look right; every company name is
fictional.
"""

from __future__ import annotations

from typing import NamedTuple


class Place(NamedTuple):
    """A city with a facility address; ``port``/``airport`` say what can be loaded there."""

    city: str
    state: str
    postal_code: str
    country: str
    latitude: float
    longitude: float
    region: str  # NA, EU or ASIA
    port: str | None = None  # terminal name when ocean vessels call here
    airport: str | None = None  # IATA code when air cargo flies from here


PLACES: tuple[Place, ...] = (
    # North America
    Place(
        "Los Angeles", "CA", "90731", "US", 33.7361, -118.2639, "NA", "Port of Los Angeles", "LAX"
    ),
    Place("Long Beach", "CA", "90802", "US", 33.7542, -118.2165, "NA", "Port of Long Beach"),
    Place("Seattle", "WA", "98134", "US", 47.5801, -122.3459, "NA", "Port of Seattle", "SEA"),
    Place("Newark", "NJ", "07114", "US", 40.6895, -74.1745, "NA", "Port Newark", "EWR"),
    Place("Savannah", "GA", "31408", "US", 32.1287, -81.1437, "NA", "Port of Savannah"),
    Place("Houston", "TX", "77029", "US", 29.7261, -95.2656, "NA", "Port Houston", "IAH"),
    Place("Chicago", "IL", "60638", "US", 41.7868, -87.7522, "NA", None, "ORD"),
    Place("Dallas", "TX", "75261", "US", 32.8998, -97.0403, "NA", None, "DFW"),
    Place("Atlanta", "GA", "30354", "US", 33.6407, -84.4277, "NA", None, "ATL"),
    Place("Memphis", "TN", "38118", "US", 35.0424, -89.9767, "NA", None, "MEM"),
    Place("Columbus", "OH", "43217", "US", 39.8137, -82.9279, "NA"),
    Place("Denver", "CO", "80239", "US", 39.7816, -104.8328, "NA"),
    Place("Toronto", "ON", "L5T 2N7", "CA", 43.6532, -79.3832, "NA", None, "YYZ"),
    # Europe
    Place("Rotterdam", "ZH", "3199 LA", "NL", 51.9489, 4.1453, "EU", "Port of Rotterdam"),
    Place("Hamburg", "HH", "21129", "DE", 53.5311, 9.9356, "EU", "Port of Hamburg", "HAM"),
    Place("Antwerp", "VAN", "2030", "BE", 51.2637, 4.3990, "EU", "Port of Antwerp-Bruges"),
    Place("Felixstowe", "SFK", "IP11 4SY", "GB", 51.9536, 1.3511, "EU", "Port of Felixstowe"),
    Place("Frankfurt", "HE", "60549", "DE", 50.0379, 8.5622, "EU", None, "FRA"),
    Place("Paris", "IDF", "95700", "FR", 49.0097, 2.5479, "EU", None, "CDG"),
    Place("Milan", "MI", "21010", "IT", 45.6301, 8.7255, "EU", None, "MXP"),
    # Asia
    Place("Shanghai", "SH", "201308", "CN", 30.6280, 122.0650, "ASIA", "Port of Shanghai", "PVG"),
    Place("Ningbo", "ZJ", "315800", "CN", 29.9333, 121.8500, "ASIA", "Port of Ningbo-Zhoushan"),
    Place("Shenzhen", "GD", "518083", "CN", 22.5726, 114.2697, "ASIA", "Yantian Port", "SZX"),
    Place("Hong Kong", "", "", "HK", 22.3350, 114.1300, "ASIA", "Kwai Tsing Terminals", "HKG"),
    Place("Singapore", "", "099253", "SG", 1.2644, 103.8222, "ASIA", "Port of Singapore", "SIN"),
    Place("Busan", "", "48943", "KR", 35.1028, 129.0403, "ASIA", "Port of Busan"),
    Place("Tokyo", "13", "135-0064", "JP", 35.6172, 139.7822, "ASIA", "Port of Tokyo", "NRT"),
    Place("Ho Chi Minh City", "SG", "700000", "VN", 10.7626, 106.7460, "ASIA", "Cat Lai Terminal"),
)

STREETS = (
    "Harbor Road",
    "Logistics Parkway",
    "Commerce Drive",
    "Industrial Way",
    "Terminal Avenue",
    "Distribution Boulevard",
    "Freight Lane",
    "Gateway Drive",
    "Warehouse Street",
    "Cargo Road",
)

#: Ocean carriers: SCAC and the container owner prefix they use.
OCEAN_CARRIERS: tuple[tuple[str, str], ...] = (
    ("MAEU", "MSKU"),
    ("MSCU", "MSCU"),
    ("CMDU", "CMAU"),
    ("HLCU", "HLXU"),
    ("ONEY", "ONEU"),
    ("COSU", "CSNU"),
    ("EGLV", "EGHU"),
)
TRUCKLOAD_CARRIERS = ("JBHT", "SNDR", "KNXN", "WERN", "PAMT")
LTL_CARRIERS = ("ODFL", "FXFE", "SAIA", "EXLA", "ABFS", "RLCA", "CNWY", "AACT", "SEFL")
#: IATA airline prefixes used in air waybill numbers.
AIRLINE_PREFIXES = ("020", "057", "160", "176", "180", "618", "001")

CUSTOMERS = (
    "Northwind Traders",
    "Contoso Retail",
    "Fabrikam Industries",
    "Tailspin Toys",
    "Wide World Importers",
    "Adventure Works",
    "Alpine Ski House",
    "Proseware Inc.",
)

#: Fictional suppliers and the city (an entry of PLACES) they ship from.
SUPPLIERS: tuple[tuple[str, str], ...] = (
    ("Brightway Electronics Co.", "Shenzhen"),
    ("Oceanic Housewares Ltd.", "Ningbo"),
    ("Lotus Textile Group", "Ho Chi Minh City"),
    ("Hanbit Precision Parts", "Busan"),
    ("Sakura Components K.K.", "Tokyo"),
    ("Harbourfront Trading Ltd.", "Hong Kong"),
    ("Straits Packaging Pte.", "Singapore"),
    ("Elbe Maschinenbau GmbH", "Hamburg"),
    ("Lombardia Design S.r.l.", "Milan"),
    ("Maas Agro B.V.", "Rotterdam"),
    ("Great Lakes Steel Supply", "Chicago"),
    ("Lone Star Plastics", "Dallas"),
    ("Peach State Paper Co.", "Atlanta"),
    ("Maple Leaf Foods Supply", "Toronto"),
    ("Rocky Mountain Outdoor", "Denver"),
)

#: (description, unit of measure) for the products that orders and items carry.
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Wireless headphones", "EA"),
    ("Stainless steel cookware set", "SET"),
    ("Ergonomic office chair", "EA"),
    ("LED desk lamp", "EA"),
    ("Cotton T-shirt, 12-pack", "CS"),
    ("Bicycle tire 700x25c", "EA"),
    ("Espresso beans 1 kg", "BAG"),
    ("Ceramic floor tile 30x30 cm", "BOX"),
    ("Laptop backpack", "EA"),
    ("Yoga mat", "EA"),
    ("Cordless drill 18V", "EA"),
    ("Garden hose 15 m", "EA"),
    ("Stretch wrap film", "ROLL"),
    ("Smartphone case", "EA"),
    ("Running shoes", "PR"),
    ("Bluetooth speaker", "EA"),
    ("Kitchen knife block", "SET"),
    ("Cast iron skillet", "EA"),
    ("Ski goggles", "EA"),
    ("Printer paper A4, 5 reams", "CS"),
    ("Steel shelving unit", "EA"),
    ("Olive oil 5 l", "EA"),
    ("Wool blanket", "EA"),
    ("USB-C charger 65W", "EA"),
    ("Plastic storage bin 60 l", "EA"),
)
